r"""VGG-style backbones: VGG-11 and a small 6-convolution "convnet".

Every convolution is followed by BatchNorm and a neuron; ``"M"`` is a 2x2 max
pooling (``ceil_mode=True``: odd maps round up, and a 1x1 map stays 1x1, so deep
layers never vanish at small inputs). Max pooling keeps spikes binary.

* :class:`VGG11`: ``[64, M, 128, M, 256, 256, M, 512, 512, M, 512, 512, M]``,
  global average pooling, fc 512 -> neuron -> fc to the classes (the usual
  CIFAR-size VGG-11 of the SNN literature, without ImageNet's 4096-wide head).
* :class:`ConvNet`: ``[32, 32, M, 64, 64, M, 128, 128, M]`` then one linear layer
  on the flattened map: the small net of the Fashion-MNIST reference figures and
  the quick default.

ProjLeaky neurons work on maps (map layout); the window schedule alternates
``"quad"`` / ``"overlap"`` from one neuron to the next by default, and neurons
on maps smaller than 2x2 at the built ``image_size`` (e.g. VGG-11's last layers
at 28x28 or 16x16) or after a fully connected layer run without windows.
"""

from __future__ import annotations

import math
from typing import Optional, Sequence, Union

import torch
from torch import nn

from ..functional.windows import GROUPS
from .base import SpikingModel, to_pair
from .neurons import MapNeurons

__all__ = ["VGG11_CFG", "CONVNET_CFG", "ConvUnit", "VGG", "VGG11", "ConvNet"]

#: Layers of VGG-11 (channels, ``"M"`` for max pooling).
VGG11_CFG = (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M")
#: Layers of the small convnet.
CONVNET_CFG = (32, 32, "M", 64, 64, "M", 128, 128, "M")


class ConvUnit(nn.Module):
    r"""conv3x3 -> BatchNorm -> neuron on a map; returns ``(spk, mem)``.

    .. math::

        (S, U) = \mathrm{LIF}\big(\mathrm{BN}(W * x),\; \mathrm{lateral}\big)

    Example::

        >>> from snntorch_ms.models.neurons import make_neuron
        >>> unit = ConvUnit(1, 4, make_neuron("proj", windows="quad"))
        >>> spk, mem = unit(torch.rand(2, 1, 6, 6))
        >>> spk.shape
        torch.Size([2, 4, 6, 6])

    :param in_channels: input channels
    :type in_channels: int
    :param out_channels: output channels
    :type out_channels: int
    :param neuron: the activation, a
        :class:`~snntorch_ms.models.neurons.NeuronAdapter` (see
        :func:`~snntorch_ms.models.make_neuron`)
    :type neuron: torch.nn.Module

    Inputs: x, lateral
        - **x** a map ``[B, C_in, H, W]``
        - **lateral** a membrane ``[B, C_out, H, W]`` passed to the neuron (or None)

    Outputs: spk, mem
    """

    def __init__(self, in_channels: int, out_channels: int, neuron: nn.Module):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, 3, 1, 1, bias=False)
        self.bn = nn.BatchNorm2d(out_channels)
        self.neuron = neuron

    def forward(self, x: torch.Tensor, lateral: Optional[torch.Tensor] = None):
        return self.neuron(self.bn(self.conv(x)), lateral=lateral)


class VGG(SpikingModel):
    r"""A VGG-style spiking network built from a layer list (see the module docs).

    The features run the layers of ``cfg``; the head is either one linear layer
    on the flattened final map (``hidden=None``, with ``pool_to=None`` keeping
    that map's size as built), or global average pooling (``pool_to=1``), fc
    ``hidden`` -> neuron -> fc. The logits average ``timesteps`` steps:

    .. math::

        \hat y = \frac{1}{T} \sum_{t=1}^{T} f_t(x)

    Example::

        >>> net = VGG((4, "M", 8, "M"), num_classes=3, in_channels=1, image_size=8)
        >>> net(torch.rand(2, 1, 8, 8)).shape
        torch.Size([2, 3])

    :param cfg: channels per convolution, ``"M"`` for a 2x2 max pooling
    :type cfg: sequence of int or str
    :param num_classes: number of classes. Defaults to 10
    :type num_classes: int, optional
    :param in_channels: input channels. Defaults to 3
    :type in_channels: int, optional
    :param image_size: input size, ``int`` or ``(H, W)``; fixes where windows fit.
        Defaults to 32
    :type image_size: int or tuple(int, int), optional
    :param neuron: ``"proj"``, ``"leaky"`` or ``"relu"``. Defaults to ``"proj"``
    :type neuron: str, optional
    :param neuron_kwargs: neuron keywords (see :func:`~snntorch_ms.models.make_neuron`).
        Defaults to None
    :type neuron_kwargs: dict, optional
    :param windows: ``"alternate"``, ``"quad"``, ``"overlap"`` or None. Defaults to
        ``"alternate"``
    :type windows: str or None, optional
    :param groups: number of windows in ``{1, 2, 4}``. Defaults to 2: in this
        project's ablation (Fashion-MNIST, 3 seeds) two windows beat four by 1.8 points
        in the plain ConvNet; the paper's mixers keep 4
    :type groups: int, optional
    :param width: channel multiplier. Defaults to 1.0
    :type width: float, optional
    :param hidden: hidden fc width before ``width``. Defaults to None (a single
        linear head)
    :type hidden: int, optional
    :param pool_to: output size of the pooling before the head. Defaults to None
        (the final map size at ``image_size``, i.e. a plain flatten)
    :type pool_to: int, optional
    :param lateral: feed a neuron the previous neuron's membrane when their maps
        have the same shape (consecutive convolutions of equal width). Defaults to False
    :type lateral: bool, optional
    :param dropout: dropout before the last layer. Defaults to 0.0
    :type dropout: float, optional
    :param timesteps: time steps :math:`T`. Defaults to 1
    :type timesteps: int, optional
    :raises ValueError: for an unknown number of windows, neuron or schedule
    """

    def __init__(self, cfg: Sequence[Union[int, str]], num_classes: int = 10,
                 in_channels: int = 3, image_size=32, neuron: str = "proj",
                 neuron_kwargs: Optional[dict] = None, windows="alternate", groups: int = 2,
                 width: float = 1.0, hidden: Optional[int] = None,
                 pool_to: Optional[int] = None, lateral: bool = False,
                 dropout: float = 0.0, timesteps: int = 1):
        super().__init__(timesteps)
        if groups not in GROUPS:
            raise ValueError(f"unknown groups={groups!r}: expected one of {GROUPS}")
        neurons = MapNeurons(neuron, windows, groups, neuron_kwargs)
        height, width_px = to_pair(image_size)
        self.image_size = (height, width_px)
        self.lateral = lateral
        layers = []
        cin = in_channels
        for item in cfg:
            if item == "M":
                layers.append(nn.MaxPool2d(2, ceil_mode=True))
                height, width_px = math.ceil(height / 2), math.ceil(width_px / 2)
            else:
                cout = max(1, int(round(int(item) * width)))
                layers.append(ConvUnit(cin, cout, neurons(cout, (height, width_px))))
                cin = cout
        self.features = nn.ModuleList(layers)
        self.pool = nn.AdaptiveAvgPool2d(pool_to if pool_to is not None else (height, width_px))
        side = (pool_to, pool_to) if pool_to is not None else (height, width_px)
        flat = cin * side[0] * side[1]
        self.drop = nn.Dropout(dropout)
        if hidden is None:
            self.fc1, self.fc_neuron = None, None
            self.fc = nn.Linear(flat, num_classes)
        else:
            hidden = max(1, int(round(hidden * width)))
            self.fc1 = nn.Linear(flat, hidden)
            self.fc_neuron = neurons(hidden)
            self.fc = nn.Linear(hidden, num_classes)

    def step(self, x: torch.Tensor) -> torch.Tensor:
        mem = None
        for layer in self.features:
            if isinstance(layer, ConvUnit):
                lateral = None
                if self.lateral and mem is not None and mem.shape[1:] == x.shape[1:] \
                        and layer.conv.in_channels == layer.conv.out_channels:
                    lateral = mem
                x, mem = layer(x, lateral=lateral)
            else:
                x = layer(x)
                mem = None
        x = self.pool(x).flatten(1)
        if self.fc1 is not None:
            x, _ = self.fc_neuron(self.fc1(x))
        return self.fc(self.drop(x))


class VGG11(VGG):
    r"""VGG-11 with BatchNorm and a choice of neuron (see the module docs):
    :data:`VGG11_CFG`, global average pooling, fc 512 -> neuron -> fc.

    .. math::

        \hat y = \frac{1}{T} \sum_{t=1}^{T} f_t(x)

    Example::

        >>> net = VGG11(num_classes=10, in_channels=1, image_size=16, width=1 / 16)
        >>> net(torch.rand(2, 1, 16, 16)).shape
        torch.Size([2, 10])

    :param num_classes: number of classes. Defaults to 10
    :type num_classes: int, optional
    :param in_channels: input channels. Defaults to 3
    :type in_channels: int, optional
    :param image_size: input size, ``int`` or ``(H, W)``; fixes where windows fit.
        Defaults to 32
    :type image_size: int or tuple(int, int), optional
    :param hidden: hidden fc width before ``width``. Defaults to 512
    :type hidden: int, optional
    :param kwargs: the other keywords of :class:`VGG` (``neuron``,
        ``neuron_kwargs``, ``windows``, ``groups``, ``width``, ``lateral``,
        ``dropout``, ``timesteps``); ``pool_to`` is fixed to 1
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 3, image_size=32,
                 hidden: int = 512, **kwargs):
        super().__init__(VGG11_CFG, num_classes=num_classes, in_channels=in_channels,
                         image_size=image_size, hidden=hidden, pool_to=1, **kwargs)


class ConvNet(VGG):
    r"""The small 6-convolution VGG-style net (see the module docs):
    :data:`CONVNET_CFG`, then one linear layer on the flattened final map
    (e.g. 128 x 4 x 4 at 28x28 inputs).

    .. math::

        \hat y = \frac{1}{T} \sum_{t=1}^{T} W \,\mathrm{vec}(\mathrm{features}_t(x))

    Example::

        >>> net = ConvNet(num_classes=10, in_channels=1, image_size=28, width=0.25)
        >>> net(torch.rand(2, 1, 28, 28)).shape
        torch.Size([2, 10])

    :param num_classes: number of classes. Defaults to 10
    :type num_classes: int, optional
    :param in_channels: input channels. Defaults to 3
    :type in_channels: int, optional
    :param image_size: input size, ``int`` or ``(H, W)``; fixes where windows fit
        and the size of the flattened map. Defaults to 32
    :type image_size: int or tuple(int, int), optional
    :param kwargs: the other keywords of :class:`VGG` (``neuron``,
        ``neuron_kwargs``, ``windows``, ``groups``, ``width``, ``hidden``,
        ``pool_to``, ``lateral``, ``dropout``, ``timesteps``)
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 3, image_size=32, **kwargs):
        super().__init__(CONVNET_CFG, num_classes=num_classes, in_channels=in_channels,
                         image_size=image_size, **kwargs)
