"""Structure of the backbones: ResNet-19, VGG-11, convnet."""

import pytest
import torch

from snntorch_ms.models import ConvNet, ResNet19, VGG11
from snntorch_ms.models.resnet import BasicBlock
from snntorch_ms.models.vgg import ConvUnit


def _count(net, kind):
    return sum(isinstance(m, kind) for m in net.modules())


def test_resnet19_is_the_tdbn_network():
    net = ResNet19(num_classes=100)
    convs = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d)
             and m.kernel_size == (3, 3)]
    assert len(convs) == 17  # + 2 fully connected layers = 19
    assert convs[0].out_channels == 128 and convs[0].stride == (1, 1)
    blocks = [m for m in net.modules() if isinstance(m, BasicBlock)]
    assert [b.conv1.out_channels for b in blocks] == [128] * 3 + [256] * 3 + [512] * 2
    assert [b.conv1.stride[0] for b in blocks] == [1, 1, 1, 2, 1, 1, 2, 1]
    assert (net.fc1.in_features, net.fc1.out_features) == (512, 256)
    assert net.fc2.out_features == 100
    # a neuron after each BatchNorm of the main path (stem, 2 per block) and after fc1
    assert _count(net, torch.nn.BatchNorm2d) == 1 + 2 * 8 + 2  # + 2 shortcut BNs
    assert sum(m.kind == "proj" for m in net.modules()
               if type(m).__name__ == "NeuronAdapter") == 1 + 2 * 8 + 1


def test_resnet19_windows_alternate_per_neuron_and_fc_has_none():
    net = ResNet19(image_size=32, width=1 / 16)
    schemes = [net.neuron.windows] + [w for b in net.layers
                                      for w in (b.neuron1.windows, b.neuron2.windows)]
    assert schemes == ["quad", "overlap"] * 8 + ["quad"]
    assert net.fc_neuron.windows is None


def test_vgg11_layers_and_small_map_fallback():
    net = VGG11(num_classes=10, in_channels=1, image_size=16)
    units = [m for m in net.features if isinstance(m, ConvUnit)]
    assert [u.conv.out_channels for u in units] == [64, 128, 256, 256, 512, 512, 512, 512]
    assert _count(net, torch.nn.MaxPool2d) == 5
    # maps 16, 8, 4, 4, 2, 2, 1, 1: the last two run without windows
    assert [u.neuron.windows is None for u in units] == [False] * 6 + [True] * 2
    assert (net.fc1.in_features, net.fc1.out_features) == (512, 512)


@pytest.mark.parametrize("size, flat", [(28, 128 * 4 * 4), (32, 128 * 4 * 4),
                                        (16, 128 * 2 * 2), (8, 128)])
def test_convnet_layers(size, flat):
    net = ConvNet(num_classes=10, in_channels=1, image_size=size)
    units = [m for m in net.features if isinstance(m, ConvUnit)]
    assert [u.conv.out_channels for u in units] == [32, 32, 64, 64, 128, 128]
    assert net.fc.in_features == flat and net.fc1 is None


@pytest.mark.parametrize("model", ["resnet", "vgg"])
def test_lateral_option_feeds_previous_membrane(model):
    if model == "resnet":
        net = ResNet19(in_channels=1, image_size=8, width=1 / 16, blocks=(1, 1, 1),
                       lateral=True)
        first, second = net.layers[0].neuron1, net.layers[0].neuron2
    else:
        net = ConvNet(in_channels=1, image_size=8, width=0.125, lateral=True)
        first, second = net.features[0].neuron, net.features[1].neuron
    seen = {}
    first.neuron.register_forward_hook(lambda m, a, out: seen.update(mem=out[1]))
    second.neuron.register_forward_pre_hook(
        lambda m, args, kwargs: seen.update(lateral=kwargs.get("lateral")), with_kwargs=True)
    net(torch.rand(2, 1, 8, 8))
    assert seen["lateral"] is not None and torch.equal(seen["lateral"], seen["mem"])


def test_no_lateral_by_default():
    net = ConvNet(in_channels=1, image_size=8, width=0.125)
    seen = {}
    net.features[1].neuron.neuron.register_forward_pre_hook(
        lambda m, args, kwargs: seen.update(lateral=kwargs.get("lateral")), with_kwargs=True)
    net(torch.rand(2, 1, 8, 8))
    assert seen["lateral"] is None
