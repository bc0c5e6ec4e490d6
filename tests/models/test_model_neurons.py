"""make_neuron / NeuronAdapter: one calling convention for proj, leaky and relu."""

import pytest
import snntorch
import torch

from snntorch_ms import ProjLeaky
from snntorch_ms.models import NEURON_DEFAULTS, NEURONS, make_neuron
from snntorch_ms.models.neurons import MapNeurons, schedule_windows
from snntorch_ms.utils import reset, spiking_neurons


def test_unknown_kind_names_the_options():
    with pytest.raises(ValueError, match="proj.*leaky.*relu"):
        make_neuron("lif")


@pytest.mark.parametrize("kind", NEURONS)
def test_calling_convention_on_map_and_stack(kind):
    n = make_neuron(kind, channels=3, windows="quad", groups=4)
    x = torch.randn(2, 3, 6, 6) * 2
    spk, mem = n(x)
    assert spk.shape == mem.shape == x.shape
    stack = torch.randn(2, 4, 3, 3, 3) * 2
    spk, mem = n(stack, lateral=torch.randn_like(stack) if kind == "proj" else None)
    assert spk.shape == mem.shape == stack.shape
    assert n.recompose(spk, (6, 6)).shape == (2, 3, 6, 6)


def test_relu_twin():
    n = make_neuron("relu", beta=0.9)  # neuron keywords are ignored
    x = torch.tensor([-1.0, 0.5, 2.0])
    spk, mem = n(x)
    assert torch.equal(spk, torch.relu(x)) and torch.equal(mem, x)
    assert n.neuron is None and n.condense == "mean"


def test_defaults_and_overrides():
    assert NEURON_DEFAULTS == {"beta": 0.5, "threshold": 1.0}
    proj = make_neuron("proj")
    assert isinstance(proj.neuron, ProjLeaky)
    assert float(proj.neuron.beta) == 0.5 and float(proj.neuron.threshold) == 1.0
    assert proj.neuron.init_hidden and proj.neuron.output
    leaky = make_neuron("leaky", beta=0.9, threshold=0.3)
    assert type(leaky.neuron) is snntorch.Leaky
    assert float(leaky.neuron.beta) == pytest.approx(0.9)
    assert float(leaky.neuron.threshold) == pytest.approx(0.3)


def test_leaky_drops_proj_only_keywords_and_windows():
    n = make_neuron("leaky", windows="overlap", groups=2, theta=0.3, projection="mean",
                    learn_theta=True)
    assert type(n.neuron) is snntorch.Leaky
    x = torch.rand(1, 2, 4, 4) * 3
    ref = snntorch.Leaky(beta=0.5, threshold=1.0, init_hidden=True, output=True)
    assert torch.equal(n(x)[0], ref(x)[0])


def test_proj_passes_lateral_and_windows():
    n = make_neuron("proj", windows="overlap", groups=2, theta=0.25)
    assert n.neuron.windows == "overlap" and n.neuron.groups == 2
    assert float(n.neuron.theta) == 0.25
    seen = {}
    n.neuron.register_forward_pre_hook(
        lambda mod, args, kwargs: seen.update(kwargs), with_kwargs=True)
    lat = torch.rand(1, 2, 4, 4)
    n(torch.rand(1, 2, 4, 4), lateral=lat)
    assert seen["lateral"] is lat


def test_reset_finds_the_wrapped_neuron():
    net = torch.nn.Sequential(make_neuron("proj"), make_neuron("leaky"), make_neuron("relu"))
    assert len(spiking_neurons(net)) == 2
    for m in net:
        m(torch.ones(1, 1, 4, 4) * 3)
    assert float(net[0].neuron.mem.abs().sum()) > 0
    reset(net)
    assert float(net[0].neuron.mem.abs().sum()) == 0
    assert float(net[1].neuron.mem.abs().sum()) == 0


def test_schedule_and_map_neurons():
    assert [schedule_windows("alternate", i) for i in range(4)] == \
        ["quad", "overlap", "quad", "overlap"]
    with pytest.raises(ValueError, match="alternate"):
        schedule_windows("dilated", 0)
    neurons = MapNeurons("proj", windows="alternate")
    got = [neurons(2, (4, 4)).windows, neurons(2, (1, 3)).windows,
           neurons(2, (2, 2)).windows, neurons(2).windows]
    assert got == ["quad", None, "overlap", None]
