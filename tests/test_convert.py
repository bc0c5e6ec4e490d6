"""convert_leaky: an existing snntorch network becomes a ProjLeaky network with the
same weights, parameters and state, and training goes on."""

import pytest
import snntorch as snn
import snntorch.functional as SF
import torch
from snntorch import spikegen, surrogate, utils
from snntorch._neurons.neurons import SpikingNeuron
from torch import nn

from snntorch_ms import ProjLeaky, convert_leaky

T = 3


def snn_cnn(beta=0.8):
    torch.manual_seed(0)
    sg = surrogate.fast_sigmoid(slope=25)
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.MaxPool2d(2),
        snn.Leaky(torch.full((4, 1, 1), beta), threshold=0.5, spike_grad=sg, init_hidden=True,
                  learn_beta=True),
        nn.Conv2d(4, 8, 3, padding=1), nn.MaxPool2d(2),
        snn.Leaky(beta, spike_grad=sg, init_hidden=True, learn_threshold=True),
        nn.Flatten(), nn.Linear(8 * 2 * 2, 5),
        snn.Leaky(beta, spike_grad=sg, init_hidden=True, output=True, reset_mechanism="zero"),
    )


def run(net, x):
    utils.reset(net)
    torch.manual_seed(7)
    spikes = spikegen.rate(x, num_steps=T)
    spk_rec = []
    for step in range(T):
        spk, _ = net(spikes[step])
        spk_rec.append(spk)
    return torch.stack(spk_rec)


def train_steps(net, x, y, n):
    opt = torch.optim.SGD(net.parameters(), lr=0.5)
    loss_fn = SF.ce_rate_loss()
    losses = []
    for _ in range(n):
        loss = loss_fn(run(net, x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


@pytest.fixture
def data():
    torch.manual_seed(1)
    return torch.rand(8, 1, 8, 8), torch.arange(8) % 5


def test_leaky_exact_conversion_continues_training_bit_for_bit(data):
    x, y = data
    reference, converted = snn_cnn(), snn_cnn()
    train_steps(reference, x, y, 3)
    train_steps(converted, x, y, 3)
    convert_leaky(converted, where="none")
    assert all(isinstance(converted[i], ProjLeaky) for i in (2, 5, 8))
    assert isinstance(converted[2].beta, nn.Parameter)  # learnable stays learnable
    assert converted[2].beta.shape == (4, 1, 1)  # per-channel stays per-channel
    assert isinstance(converted[5].threshold, nn.Parameter)
    assert converted[8].reset_mechanism == "zero" and converted[8].output
    # the same trained values, then the same training from there on
    assert train_steps(reference, x, y, 3) == train_steps(converted, x, y, 3)
    for (name, a), (_, b) in zip(reference.named_parameters(), converted.named_parameters()):
        assert torch.equal(a, b), name


def test_windows_go_where_the_neurons_see_maps(data):
    x, y = data
    net = snn_cnn()
    train_steps(net, x, y, 2)
    trained = {k: v.clone() for k, v in net.state_dict().items()}
    convert_leaky(net, x, groups=2, windows="overlap", theta=0.4)
    assert (net[2].windows, net[2].groups, net[2].theta.item()) == ("overlap", 2, pytest.approx(0.4))
    assert net[5].windows == "overlap"  # a 2x2 map still takes windows
    assert net[8].windows is None and net[8].projection == "none"  # after the Linear
    for key, value in trained.items():  # the weights and Leaky parameters are kept
        assert torch.equal(net.state_dict()[key], value), key
    before = [p.clone() for p in net.parameters()]
    losses = train_steps(net, x, y, 3)
    assert all(torch.isfinite(torch.tensor(losses)))
    assert any(not torch.equal(a, b) for a, b in zip(before, net.parameters()))


def test_the_state_is_carried_over():
    net = nn.Sequential(nn.Conv2d(1, 2, 3), snn.Leaky(0.9, init_hidden=True))
    x = torch.rand(2, 1, 6, 6) * 3
    net(x)
    mem = net[1].mem
    twin_net = convert_leaky(nn.Sequential(*net), where="none")
    assert twin_net[1].mem is mem
    follow = nn.Sequential(nn.Conv2d(1, 2, 3), snn.Leaky(0.9, init_hidden=True))
    follow.load_state_dict(net.state_dict(), strict=False)
    follow(x)
    assert torch.equal(twin_net(x), follow(x))


def test_probe_changes_no_state_and_the_replaced_neurons_are_released(data):
    x, _ = data
    net = snn_cnn()
    net.train()
    old = [m for m in net.modules() if isinstance(m, snn.Leaky)]
    assert all(any(n is o for n in SpikingNeuron.instances) for o in old)
    convert_leaky(net, x)
    assert net.training
    assert not any(n is o for n in SpikingNeuron.instances for o in old)
    assert all(any(n is m for n in SpikingNeuron.instances) for m in net.modules()
               if isinstance(m, ProjLeaky))
    assert all(m.mem.numel() == 0 for m in net.modules() if isinstance(m, ProjLeaky))


def test_where_by_names_and_by_callable(data):
    x, _ = data
    net = convert_leaky(snn_cnn(), where=["5"])
    assert net[2].windows is None and net[5].windows == "quad"
    net = convert_leaky(snn_cnn(), where=lambda name, leaky: name == "2")
    assert net[2].windows == "quad" and net[5].windows is None


def test_shared_neuron_stays_shared():
    lif = snn.Leaky(0.5, init_hidden=True)
    net = nn.Sequential(nn.Conv2d(1, 1, 1), lif, nn.Conv2d(1, 1, 1), lif)
    convert_leaky(net, where="none")
    assert net[1] is net[3] and isinstance(net[1], ProjLeaky)


def test_a_1d_vector_that_would_change_meaning_is_refused():
    net = nn.Sequential(nn.Conv2d(1, 4, 3), snn.Leaky(torch.full((4,), 0.5)))
    with pytest.raises(ValueError, match=r"Leaky '1'.*1-D vector of 4 values.*\[C, 1, 1\]"):
        convert_leaky(net, torch.rand(1, 1, 6, 6))
    assert type(net[1]) is snn.Leaky  # nothing was replaced
    convert_leaky(net, where="none")  # Leaky-exact keeps Leaky's broadcasting
    assert net[1].beta.shape == (4,)


@pytest.mark.parametrize("kwargs, match", [
    (dict(where="maps"), "needs an example input"),
    (dict(where="somewhere"), "unknown where='somewhere'"),
    (dict(where=["7"]), r"not snntorch.Leaky neurons of the network: \['7'\]"),
    (dict(where="all", beta=0.3), r"unknown keyword\(s\) \['beta'\]"),
])
def test_bad_arguments_say_what_is_wrong(kwargs, match):
    with pytest.raises(ValueError, match=match):
        convert_leaky(snn_cnn(), **kwargs)


@pytest.mark.filterwarnings("ignore:Inhibition is an unstable feature")
def test_inhibition_under_windows_names_the_layer():
    net = nn.Sequential(nn.Conv2d(1, 2, 3), snn.Leaky(0.5, inhibition=True))
    with pytest.raises(ValueError, match="cannot convert Leaky '1': inhibition"):
        convert_leaky(net, where="all")
