"""build_model: every model x neuron x input size, forward and backward."""

import pytest
import torch

from snntorch_ms.models import MODELS, NEURONS, build_model
from snntorch_ms.utils import spiking_neurons

# tiny versions of every model (same structure, few channels / blocks)
TINY = {
    "cnn-mixer": dict(depths=(1, 1, 1, 1), dims=(8, 16, 32, 64)),
    "lstm-mixer": dict(depths=(1, 1, 1, 1), dims=(8, 16, 32, 64)),
    "resnet19": dict(width=1 / 16, blocks=(1, 1, 1)),
    "vgg11": dict(width=1 / 16),
    "convnet": dict(width=0.125),
}

SIZES = [(1, 28), (3, 32), (3, 64), (1, 16)]


def _stem(net):
    if hasattr(net, "stem"):
        return net.stem.weight
    if hasattr(net, "conv"):
        return net.conv.weight
    return net.features[0].conv.weight


def _build(name, neuron, channels, size, **kw):
    torch.manual_seed(0)
    return build_model(name, neuron=neuron, num_classes=7, in_channels=channels,
                       image_size=size, **TINY[name], **kw)


@pytest.mark.parametrize("channels, size", SIZES, ids=[f"{c}x{s}" for c, s in SIZES])
@pytest.mark.parametrize("neuron", NEURONS)
@pytest.mark.parametrize("name", MODELS)
def test_forward_backward(name, neuron, channels, size):
    net = _build(name, neuron, channels, size)
    # batch 3: a BatchNorm over exactly 2 values (batch 2 on VGG-11's 1x1 maps at
    # 16x16) outputs +-1 whatever its input, so its input gradient is exactly 0
    x = torch.randn(3, channels, size, size)
    out = net(x)
    assert out.shape == (3, 7) and torch.isfinite(out).all()
    out.square().mean().backward()
    grad = _stem(net).grad
    assert grad is not None and torch.isfinite(grad).all() and grad.abs().sum() > 0
    n_spiking = len(spiking_neurons(net))
    assert (n_spiking == 0) if neuron == "relu" else (n_spiking > 0)


@pytest.mark.parametrize("name", MODELS)
def test_timesteps_and_repeatable_forward(name):
    net = _build(name, "proj", 3, 32, timesteps=2)
    assert net.timesteps == 2
    x = torch.randn(2, 3, 32, 32) * 2
    first = net(x)
    second = net(x)  # state reset at the start of every forward
    assert first.shape == (2, 7)
    assert torch.equal(first, second)
    first.sum().backward()
    assert torch.isfinite(_stem(net).grad).all()


def test_timesteps_average_the_steps():
    net = _build("convnet", "leaky", 1, 16, timesteps=3)
    x = torch.randn(2, 1, 16, 16) * 3
    steps = []
    net.fc.register_forward_hook(lambda m, a, out: steps.append(out))
    out = net(x)
    assert len(steps) == 3
    torch.testing.assert_close(out, torch.stack(steps).mean(0))
    # the state carries across steps: later steps differ from the first
    assert not torch.equal(steps[0], steps[1])


def test_neuron_kwargs_reach_every_neuron():
    net = _build("cnn-mixer", "proj", 1, 16, neuron_kwargs={"threshold": 0.25, "theta": 0.3})
    neurons = spiking_neurons(net)
    assert neurons and all(float(n.threshold) == 0.25 and float(n.theta) == pytest.approx(0.3)
                           for _, n in neurons)
    net = _build("resnet19", "leaky", 1, 16, neuron_kwargs={"beta": 0.8, "theta": 0.3})
    assert all(float(n.beta) == pytest.approx(0.8) for _, n in spiking_neurons(net))


def test_unknown_names_raise():
    with pytest.raises(ValueError, match="cnn-mixer.*convnet"):
        build_model("resnet18")
    with pytest.raises(ValueError, match="proj"):
        build_model("convnet", neuron="lif")
    with pytest.raises(ValueError, match="timesteps"):
        build_model("convnet", timesteps=0)


@pytest.mark.parametrize("name", ["cnn-mixer", "convnet"])
def test_neuron_kwargs_may_not_set_the_windows(name):
    with pytest.raises(ValueError, match="windows"):
        _build(name, "proj", 1, 16, neuron_kwargs={"windows": "overlap"})


@pytest.mark.parametrize("name", MODELS)
def test_non_square_input(name):
    net = build_model(name, num_classes=4, in_channels=1, image_size=(16, 24), **TINY[name])
    assert net(torch.rand(2, 1, 16, 24)).shape == (2, 4)
