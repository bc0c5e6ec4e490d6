r"""ResNet-19 as used in the SNN literature (Zheng et al., AAAI 2021, "Going
Deeper With Directly-Trained Larger Spiking Neural Networks").

* stem: conv3x3 to 128 channels, BatchNorm, neuron;
* three stages of 3, 3 and 2 :class:`BasicBlock` with 128, 256 and 512 channels
  (strides 1, 2, 2);
* global average pooling, fc 256 -> neuron -> fc to the classes.

17 convolutions and 2 fully connected layers. A neuron follows every BatchNorm
(in a block, the second neuron follows the sum of the second BatchNorm and the
shortcut). ProjLeaky neurons work on maps (map layout: each neuron cuts its own
windows); the window schedule alternates ``"quad"`` / ``"overlap"`` from one
neuron to the next by default, and neurons on maps smaller than 2x2 (at the
built ``image_size``) or after the fc layer run without windows.
"""

from __future__ import annotations

import math
from typing import Optional, Sequence

import torch
from torch import nn

from ..functional.windows import GROUPS
from .base import SpikingModel, to_pair
from .neurons import MapNeurons

__all__ = ["BasicBlock", "ResNet19"]


def _scaled(channels: int, width: float) -> int:
    return max(1, int(round(channels * width)))


class BasicBlock(nn.Module):
    r"""The spiking basic block of ResNet-19, on a map ``[B, C, H, W]``.

    .. math::

        (S^1, U^1) &= \mathrm{LIF}_1(\mathrm{BN}_1(W_1 * x)) \\
        (S^2, U^2) &= \mathrm{LIF}_2\big(\mathrm{BN}_2(W_2 * S^1) + \mathrm{sc}(x),\;
            \mathrm{lateral} = U^1 \text{ if enabled}\big)

    The shortcut :math:`\mathrm{sc}` is the identity, or conv1x1 + BatchNorm when
    the stride or the width changes. Returns the spikes :math:`S^2`.

    Example::

        >>> from snntorch_ms.models.neurons import MapNeurons
        >>> blk = BasicBlock(4, 8, 2, MapNeurons("proj"), (8, 8))
        >>> blk(torch.rand(2, 4, 8, 8)).shape
        torch.Size([2, 8, 4, 4])

    :param in_channels: input channels
    :type in_channels: int
    :param out_channels: output channels
    :type out_channels: int
    :param stride: stride of the first convolution (and of the shortcut)
    :type stride: int
    :param neurons: hands out the block's two neurons
    :type neurons: ~snntorch_ms.models.neurons.MapNeurons
    :param size: input map size ``(H, W)`` at the built image size
    :type size: tuple(int, int)
    :param lateral: feed the first neuron's membrane to the second as ``lateral``.
        Defaults to False
    :type lateral: bool, optional
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int,
                 neurons: MapNeurons, size, lateral: bool = False):
        super().__init__()
        out_size = (math.ceil(size[0] / stride), math.ceil(size[1] / stride))
        self.out_size = out_size
        self.lateral = lateral
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.neuron1 = neurons(out_channels, out_size)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride, bias=False),
                nn.BatchNorm2d(out_channels),
            )
        else:
            self.shortcut = nn.Identity()
        self.neuron2 = neurons(out_channels, out_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        spk1, mem1 = self.neuron1(self.bn1(self.conv1(x)))
        cur = self.bn2(self.conv2(spk1)) + self.shortcut(x)
        spk2, _ = self.neuron2(cur, lateral=mem1 if self.lateral else None)
        return spk2


class ResNet19(SpikingModel):
    r"""ResNet-19 (Zheng et al. 2021) with a choice of neuron (see the module docs).

    The logits average ``timesteps`` steps on the same (direct-encoded) input:

    .. math::

        \hat y = \frac{1}{T} \sum_{t=1}^{T} f_t(x)

    Example::

        >>> net = ResNet19(num_classes=10, in_channels=1, image_size=16, neuron="leaky",
        ...                width=1 / 16, blocks=(1, 1, 1))
        >>> net(torch.rand(2, 1, 16, 16)).shape
        torch.Size([2, 10])

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
    :param width: channel multiplier (1.0: 128/256/512 channels, fc 256). Defaults to 1.0
    :type width: float, optional
    :param blocks: basic blocks per stage. Defaults to ``(3, 3, 2)``
    :type blocks: sequence of int, optional
    :param channels: channels per stage before ``width``. Defaults to ``(128, 256, 512)``
    :type channels: sequence of int, optional
    :param fc_dim: hidden fully connected width before ``width``. Defaults to 256
    :type fc_dim: int, optional
    :param lateral: feed each block's first membrane to its second neuron. Defaults to False
    :type lateral: bool, optional
    :param dropout: dropout before the last layer. Defaults to 0.0
    :type dropout: float, optional
    :param timesteps: time steps :math:`T`. Defaults to 1
    :type timesteps: int, optional
    :raises ValueError: for an unknown number of windows, neuron or schedule, or
        ``blocks`` and ``channels`` of different lengths
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 3, image_size=32,
                 neuron: str = "proj", neuron_kwargs: Optional[dict] = None,
                 windows="alternate", groups: int = 2, width: float = 1.0,
                 blocks: Sequence[int] = (3, 3, 2), channels: Sequence[int] = (128, 256, 512),
                 fc_dim: int = 256, lateral: bool = False, dropout: float = 0.0,
                 timesteps: int = 1):
        super().__init__(timesteps)
        if groups not in GROUPS:
            raise ValueError(f"unknown groups={groups!r}: expected one of {GROUPS}")
        if len(blocks) != len(channels) or not blocks:
            raise ValueError(
                f"blocks and channels need one entry per stage, got {blocks} and {channels}"
            )
        neurons = MapNeurons(neuron, windows, groups, neuron_kwargs)
        size = to_pair(image_size)
        self.image_size = size
        widths = [_scaled(c, width) for c in channels]
        self.conv = nn.Conv2d(in_channels, widths[0], 3, 1, 1, bias=False)
        self.bn = nn.BatchNorm2d(widths[0])
        self.neuron = neurons(widths[0], size)
        layers = []
        cin = widths[0]
        for stage, (depth, cout) in enumerate(zip(blocks, widths)):
            for b in range(depth):
                stride = 2 if stage > 0 and b == 0 else 1
                blk = BasicBlock(cin, cout, stride, neurons, size, lateral)
                size, cin = blk.out_size, cout
                layers.append(blk)
        self.layers = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        hidden = _scaled(fc_dim, width)
        self.fc1 = nn.Linear(cin, hidden)
        self.fc_neuron = neurons(hidden)
        self.drop = nn.Dropout(dropout)
        self.fc2 = nn.Linear(hidden, num_classes)

    def step(self, x: torch.Tensor) -> torch.Tensor:
        x, _ = self.neuron(self.bn(self.conv(x)))
        x = self.layers(x)
        x = self.pool(x).flatten(1)
        x, _ = self.fc_neuron(self.fc1(x))
        return self.fc2(self.drop(x))
