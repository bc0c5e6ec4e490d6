"""Surrogates: the rectangular surrogate's values and gradient, and surrogates by name."""

import pytest
import torch
from snntorch import surrogate as snn_surrogate

from snntorch_ms.models import build_model
from snntorch_ms.surrogate import SURROGATES, get_surrogate, rectangular


def test_rectangular_forward_and_gradient():
    x = torch.tensor([-0.6, -0.24, 0.0, 0.24, 0.26], dtype=torch.float64, requires_grad=True)
    spk = rectangular(width=0.5)(x)
    assert spk.dtype == torch.float64
    assert spk.tolist() == [0, 0, 0, 1, 1]
    spk.sum().backward()
    assert x.grad.tolist() == [0, 2, 2, 2, 0]  # height 1/width inside |x| < width/2
    with pytest.raises(ValueError, match="width > 0"):
        rectangular(0.0)


@pytest.mark.parametrize("name", SURROGATES)
def test_every_name_builds_a_working_surrogate(name):
    x = torch.randn(16, requires_grad=True)
    torch.manual_seed(0)
    out = get_surrogate(name)(x)
    out.sum().backward()
    assert out.shape == x.shape and x.grad is not None


def test_arguments_are_passed():
    x = torch.tensor([0.1], requires_grad=True)
    get_surrogate("atan:alpha=4")(x).backward()
    ref = torch.tensor([0.1], requires_grad=True)
    snn_surrogate.atan(alpha=4.0)(ref).backward()
    assert torch.equal(x.grad, ref.grad)
    with pytest.raises(ValueError, match="KEY=VALUE"):
        get_surrogate("atan:4")
    with pytest.raises(ValueError, match="bad arguments"):
        get_surrogate("atan:beta=1")


def test_models_take_a_surrogate_by_name():
    model = build_model("convnet", neuron="proj", in_channels=1, image_size=16,
                        neuron_kwargs={"spike_grad": "rectangular:width=1"}, width=0.25)
    from snntorch_ms.utils import spiking_neurons
    lif = spiking_neurons(model)[0][1]
    x = torch.tensor([0.3], requires_grad=True)
    lif.spike_grad(x).backward()
    assert x.grad.item() == 1.0  # the rectangular box, not atan's 1/(1+(pi x)^2)
