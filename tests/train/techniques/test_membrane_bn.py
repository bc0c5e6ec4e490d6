"""Membrane batch norm before the threshold (MPBN) and its fold into thresholds."""

from __future__ import annotations

import math

import pytest
import torch

from snntorch_ms.models import build_model, make_neuron
from snntorch_ms.train.techniques.membrane_bn import (
    MembraneBN,
    add_membrane_bn,
    fold_membrane_bn,
    has_membrane_bn,
)
from snntorch_ms.train import TrainConfig, build_from_config, measure_model_energy


def test_training_uses_batch_statistics_of_the_membrane():
    # vector input, one channel, three images: mean 1, biased variance 2
    m = MembraneBN(make_neuron("leaky").neuron, channels=1, eps=0.0)
    spk, mem = m(torch.tensor([[0.0], [0.0], [3.0]]))
    # normalised: (3 - 1) / sqrt(2) = 1.414 >= 1 fires; (0 - 1) / sqrt(2) does not
    assert spk.flatten().tolist() == [0.0, 0.0, 1.0]
    assert mem.flatten().tolist() == [0.0, 0.0, 3.0]
    # running statistics: 0.9 x 0 + 0.1 x 1; 0.9 x 1 + 0.1 x 3 (unbiased variance 3)
    assert m.running_mean.item() == pytest.approx(0.1)
    assert m.running_var.item() == pytest.approx(1.2)


def test_inference_reset_subtracts_the_raw_threshold():
    # gamma 2, beta 0, mu 0.5, var 1, eps 0: a = 2, c = -1; V = 1: raw threshold 1
    lif = make_neuron("leaky", beta=0.5, threshold=1.0).neuron
    m = MembraneBN(lif, channels=1, eps=0.0).eval()
    with torch.no_grad():
        m.weight.fill_(2.0)
        m.running_mean.fill_(0.5)
    x = torch.tensor([[0.9]])
    outs = []
    for _ in range(3):
        spk, mem = m(x)
        outs.append((spk.item(), round(mem.item(), 6)))
    # U1 = 0.9 (2 x 0.9 - 1 = 0.8 < 1), U2 = 0.45 + 0.9 = 1.35 fires,
    # U3 = 0.675 + 0.9 - 1 x 1 = 0.575
    assert outs == [(0.0, 0.9), (1.0, 1.35), (0.0, 0.575)]


def _perturb(net, seed=0, negative=True):
    """Train-mode passes move the running statistics; random affine parameters,
    some of them negative."""
    g = torch.Generator().manual_seed(seed)
    net.train()
    with torch.no_grad():
        for _ in range(3):
            net(torch.rand(16, 1, 12, 12, generator=g))
        for m in net.modules():
            if isinstance(m, MembraneBN):
                m.weight.copy_(torch.rand(m.channels, generator=g) + 0.5)
                if negative:
                    m.weight[::3] *= -1
                m.bias.copy_(torch.randn(m.channels, generator=g) * 0.3)
    return net.eval()


def _spikes(net, x):
    out = []
    hooks = [m.register_forward_hook(lambda mod, a, o: out.append(o[0].clone()))
             for m in net.modules() if type(m).__name__ == "NeuronAdapter"]
    with torch.no_grad():
        logits = net(x)
    for h in hooks:
        h.remove()
    return logits, out


CASES = [
    ("leaky", 1, {}, {}),
    ("leaky", 3, {"reset_mechanism": "subtract"}, {}),
    ("leaky", 2, {"reset_mechanism": "zero"}, {}),
    ("proj", 1, {}, {"groups": 2}),
    ("proj", 1, {"condense": "mean"}, {"groups": 4}),
    ("proj", 2, {"reset_mechanism": "zero"}, {"groups": 4}),
    ("proj", 1, {"reset_mechanism": "none"}, {"groups": 4}),
    ("proj", 2, {}, {"groups": 2, "lateral": True}),
    ("proj", 1, {"projection": "nested"}, {"groups": 4, "hidden": 16}),
]


@pytest.mark.parametrize("neuron,timesteps,nkw,mkw", CASES,
                         ids=[f"{c[0]}-T{c[1]}-{c[2]}-{c[3]}" for c in CASES])
def test_folded_network_gives_identical_spikes_and_logits(neuron, timesteps, nkw, mkw):
    torch.manual_seed(0)
    net = add_membrane_bn(build_model("convnet", neuron, in_channels=1, image_size=12,
                                      width=0.25, timesteps=timesteps, neuron_kwargs=nkw, **mkw))
    net = _perturb(net)
    with _no_check():  # thresholds <= 0 may occur here: kept exact
        folded = fold_membrane_bn(net)
    assert not has_membrane_bn(folded) and has_membrane_bn(net)
    x = torch.rand(8, 1, 12, 12, generator=torch.Generator().manual_seed(1))
    logits, spikes = _spikes(net, x)
    logits_f, spikes_f = _spikes(folded, x)
    assert len(spikes) == len(spikes_f) == 6 * timesteps + (timesteps if "hidden" in mkw else 0)
    for a, b in zip(spikes, spikes_f):
        assert torch.equal(a, b)
    assert torch.equal(logits, logits_f)
    assert sum(float(s.sum()) for s in spikes) > 0  # the comparison is not of silent nets


class _no_check:
    def __enter__(self):
        import warnings

        self._w = warnings.catch_warnings()
        self._w.__enter__()
        warnings.simplefilter("ignore", UserWarning)

    def __exit__(self, *exc):
        self._w.__exit__(*exc)


def test_negative_scale_is_folded_into_the_synapse_sign():
    torch.manual_seed(0)
    net = _perturb(add_membrane_bn(build_model("convnet", "leaky", in_channels=1,
                                               image_size=12, width=0.25)))
    unit = net.features[0]
    gamma = unit.neuron.neuron.weight.detach().clone()
    assert bool((gamma[::3] < 0).all())
    folded = fold_membrane_bn(net)
    fu = folded.features[0]
    sign = torch.sign(gamma)
    assert torch.equal(fu.bn.weight, unit.bn.weight * sign)
    assert torch.equal(fu.bn.bias, unit.bn.bias * sign)
    m = unit.neuron.neuron
    a = m.weight / torch.sqrt(m.running_var + m.eps)
    c = m.bias - a * m.running_mean
    expected = (1.0 - c) / a.abs()
    assert torch.allclose(fu.neuron.neuron.threshold.flatten(), expected)
    assert fu.neuron.neuron.threshold.shape == (len(gamma), 1, 1)


def test_nonpositive_threshold_kept_exact_with_a_warning_or_refused():
    torch.manual_seed(0)
    net = _perturb(add_membrane_bn(build_model("convnet", "proj", in_channels=1,
                                               image_size=12, width=0.25)), negative=False)
    with torch.no_grad():
        net.features[0].neuron.neuron.bias[0] = 5.0  # c >= V: fires at rest
    with pytest.warns(UserWarning, match="1 channel.* threshold <= 0"):
        folded = fold_membrane_bn(net)
    assert float(folded.features[0].neuron.neuron.threshold[0]) <= 0
    x = torch.rand(4, 1, 12, 12)
    assert torch.equal(_spikes(net, x)[0], _spikes(folded, x)[0])
    with pytest.raises(ValueError, match="threshold <= 0"):
        fold_membrane_bn(net, nonpositive="error")


def test_zero_scale_and_unfoldable_cases_are_errors():
    torch.manual_seed(0)
    net = _perturb(add_membrane_bn(build_model("convnet", "leaky", in_channels=1,
                                               image_size=12, width=0.25)), negative=False)
    with torch.no_grad():
        net.features[1].neuron.neuron.weight[2] = 0.0
    with pytest.raises(ValueError, match=r"features\.1.*scale is 0 in channel\(s\) \[2\]"):
        fold_membrane_bn(net)
    lat = _perturb(add_membrane_bn(build_model(
        "convnet", "proj", in_channels=1, image_size=12, width=0.25, lateral=True,
        neuron_kwargs={"projection": "nested"})))
    with pytest.raises(ValueError, match="not odd"):
        fold_membrane_bn(lat)
    fresh = add_membrane_bn(build_model("convnet", "leaky", in_channels=1, image_size=12))
    with pytest.raises(ValueError, match="run the model once"):
        fold_membrane_bn(fresh)


def test_config_option_and_energy_of_the_folded_network():
    cfg = TrainConfig(dataset="digits", neuron="proj", membrane_bn=True,
                      model_kwargs={"width": 0.25})
    net = build_from_config(cfg)
    assert has_membrane_bn(net) and not has_membrane_bn(build_from_config(cfg, neuron="relu"))
    x = torch.rand(6, 1, 16, 16)
    net = _perturb_digits(net)
    measured = measure_model_energy(net, cfg, x)
    with _no_check():
        folded = fold_membrane_bn(net)
    from snntorch_ms.energy import measure_energy

    direct = measure_energy(folded, x)
    assert measured["energy_j"] == pytest.approx(direct.per_image_j)
    # the folded network is priced like any spiking one: its neurons are counted
    assert len(measured["report"].firing_rates) == 6
    assert math.isfinite(measured["energy_ratio"]) and measured["energy_ratio"] > 1


def _perturb_digits(net):
    net.train()
    with torch.no_grad():
        net(torch.rand(16, 1, 16, 16))
    return net.eval()
