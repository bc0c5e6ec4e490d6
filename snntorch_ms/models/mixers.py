r"""The paper's two networks: hierarchical token mixers with spiking windows.

A :class:`MixerNet` is a four-stage hierarchical network in the style of Swin and
ResMLP (Yao et al., ACML 2023, supplement section 5):

* stem: a 2x2 convolution of stride 2 to ``dims[0]`` channels, then a norm;
* stages of ``depths`` :class:`MixerBlock` (default ``[2, 2, 6, 2]``, 12 blocks) of
  width ``dims`` (default ``[48, 96, 192, 384]``), with a :class:`PatchMerging`
  between two stages;
* global average pooling, LayerNorm, linear head.

Each block is

.. math::

    x &\leftarrow x + \mathrm{mixer}(\mathrm{norm}_1(x)) \\
    x &\leftarrow x + \mathrm{mlp}(\mathrm{norm}_2(x)), \qquad
    \mathrm{mlp}(x) = W_2\, \sigma(W_1 x), \; W_1: C \to 3C, \; W_2: 3C \to C,

with :math:`\sigma` = GELU (the paper's real-valued MLP) or a spiking neuron
(``spiking_mlp=True``, a fully spiking network). The token mixer is one of

* ``"cnn"`` (:class:`~snntorch_ms.models.token_mixers.CNNTokenMixer`, the paper's "ResNET-12F"): per window,
  conv3x3 -> neuron -> conv3x3 -> neuron fed the first neuron's membrane as
  ``lateral``; recompose; Linear C -> C;
* ``"lstm"`` (:class:`~snntorch_ms.models.token_mixers.LSTMTokenMixer`, the paper's "VIT-12"): per window, a
  bidirectional LSTM over the window's tokens -> neuron -> recompose;
  Linear 2C -> C.

Windows alternate ``"quad"`` / ``"overlap"`` from block to block (counted over the
whole network), and the last stage uses ``"quad"`` only. A stage whose map is
smaller than 2x2 cannot be cut into windows: its blocks run without windows
(``windows=None``, one window: the whole map). Map sizes are worked out at build
time from ``image_size``; e.g. 16x16 inputs give stage maps 8, 4, 2, 1, so the
last stage of a mixer on 16x16 digits runs without windows.

Choices that the paper leaves open (documented here, configurable):

* ``norm="layer"``: pre-norm LayerNorm in every block and after the stem, as in
  Swin (``"affine"`` for ResMLP's affine-only norm, ``None`` for none);
* ``conv_norm="batch"``: a BatchNorm after each per-window convolution of the
  CNN mixer (it folds into the convolution at inference, so it changes no
  operation count); ``None`` for plain biased convolutions;
* ``encode="bernoulli"`` applies to the token mixer's input only; the MLP stays
  real-valued.
"""

from __future__ import annotations

import math
from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ..functional.windows import GROUPS
from .base import ChannelLayerNorm, SpikingModel, linear_channels_last, to_pair
from .neurons import (
    WINDOW_SCHEDULES,
    check_neuron_kwargs,
    fits_windows,
    make_neuron,
    schedule_windows,
)
from .token_mixers import CNNTokenMixer, LSTMTokenMixer, check_option

__all__ = [
    "MIXERS",
    "Affine",
    "MixerMLP",
    "MixerBlock",
    "PatchMerging",
    "MixerNet",
]

#: Token mixers understood by :class:`MixerNet` and :class:`MixerBlock`.
MIXERS = ("cnn", "lstm")
#: Norms of the blocks.
NORMS = ("layer", "affine", None)


class Affine(nn.Module):
    r"""ResMLP's affine "norm" on a map ``[B, C, H, W]``: a per-channel scale and
    shift, no statistics.

    .. math::

        y_c = \alpha_c x_c + \beta_c

    Example::

        >>> Affine(3)(torch.ones(1, 3, 2, 2)).sum()
        tensor(12., grad_fn=<SumBackward0>)

    :param dim: channels :math:`C` (:math:`\alpha` starts at 1, :math:`\beta` at 0)
    :type dim: int
    """

    def __init__(self, dim: int):
        super().__init__()
        self.alpha = nn.Parameter(torch.ones(dim, 1, 1))
        self.beta = nn.Parameter(torch.zeros(dim, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.alpha * x + self.beta


def _block_norm(norm, dim) -> nn.Module:
    check_option("norm", norm, NORMS)
    if norm == "layer":
        return ChannelLayerNorm(dim)
    if norm == "affine":
        return Affine(dim)
    return nn.Identity()


class MixerMLP(nn.Module):
    r"""The block's channel MLP on a map ``[B, C, H, W]`` (applied channels-last).

    .. math::

        y = \mathrm{drop}\big(W_2\, \mathrm{drop}(\sigma(W_1 x))\big), \qquad
        W_1: C \to rC, \; W_2: rC \to C

    :math:`\sigma` is GELU, or, when ``neuron`` is given, the spikes of that
    neuron (built by :func:`make_neuron`; it sees the hidden map ``[B, rC, H, W]``
    in map layout).

    Example::

        >>> MixerMLP(4)(torch.rand(2, 4, 3, 3)).shape
        torch.Size([2, 4, 3, 3])

    :param dim: channels :math:`C`
    :type dim: int
    :param ratio: expansion :math:`r` (the paper: 3). Defaults to 3
    :type ratio: int, optional
    :param dropout: dropout probability. Defaults to 0.0
    :type dropout: float, optional
    :param neuron: a :class:`~snntorch_ms.models.neurons.NeuronAdapter`, or None for
        GELU. Defaults to None
    :type neuron: torch.nn.Module, optional
    """

    def __init__(self, dim: int, ratio: int = 3, dropout: float = 0.0,
                 neuron: Optional[nn.Module] = None):
        super().__init__()
        hidden = int(ratio * dim)
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU() if neuron is None else None
        self.neuron = neuron
        self.drop = nn.Dropout(dropout)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = linear_channels_last(self.fc1, x)
        if self.neuron is None:
            h = self.act(h)
        else:
            h, _ = self.neuron(h)
        h = self.drop(h)
        return self.drop(linear_channels_last(self.fc2, h))


class MixerBlock(nn.Module):
    r"""One block of a :class:`MixerNet`, on a map ``[B, C, H, W]``.

    .. math::

        x &\leftarrow x + \mathrm{mixer}(\mathrm{norm}_1(x)) \\
        x &\leftarrow x + \mathrm{mlp}(\mathrm{norm}_2(x))

    Example::

        >>> blk = MixerBlock(4, mixer="cnn", neuron="proj", windows="overlap")
        >>> blk(torch.rand(2, 4, 4, 4)).shape
        torch.Size([2, 4, 4, 4])

    :param dim: channels :math:`C`
    :type dim: int
    :param mixer: ``"cnn"`` (:class:`~snntorch_ms.models.token_mixers.CNNTokenMixer`) or ``"lstm"``
        (:class:`~snntorch_ms.models.token_mixers.LSTMTokenMixer`). Defaults to ``"cnn"``
    :type mixer: str, optional
    :param neuron: ``"proj"``, ``"leaky"`` or ``"relu"``. Defaults to ``"proj"``
    :type neuron: str, optional
    :param windows: ``"quad"``, ``"overlap"`` or None. Defaults to ``"quad"``
    :type windows: str or None, optional
    :param groups: number of windows in ``{1, 2, 4}``. Defaults to 4
    :type groups: int, optional
    :param neuron_kwargs: neuron keywords (see :func:`make_neuron`). Defaults to None
    :type neuron_kwargs: dict, optional
    :param encode: ``"real"`` or ``"bernoulli"`` (see :func:`~snntorch_ms.models.token_mixers.encode_input`). Defaults
        to ``"real"``
    :type encode: str, optional
    :param spiking_mlp: replace the MLP's GELU by a neuron of kind ``neuron``.
        Defaults to False
    :type spiking_mlp: bool, optional
    :param mlp_ratio: MLP expansion :math:`r`. Defaults to 3
    :type mlp_ratio: int, optional
    :param dropout: MLP dropout. Defaults to 0.0
    :type dropout: float, optional
    :param norm: ``"layer"``, ``"affine"`` or None. Defaults to ``"layer"``
    :type norm: str or None, optional
    :param conv_norm: ``"batch"`` or None (CNN mixer only). Defaults to ``"batch"``
    :type conv_norm: str or None, optional
    :param lateral: pass the first neuron's membrane to the second (CNN mixer only,
        see :class:`~snntorch_ms.models.token_mixers.CNNTokenMixer`). Defaults to True
    :type lateral: bool, optional
    :raises ValueError: ``lateral=False`` with the LSTM mixer (it has one neuron)
    """

    def __init__(self, dim: int, mixer: str = "cnn", neuron: str = "proj", windows="quad",
                 groups: int = 4, neuron_kwargs: Optional[dict] = None, encode: str = "real",
                 spiking_mlp: bool = False, mlp_ratio: int = 3, dropout: float = 0.0,
                 norm: Optional[str] = "layer", conv_norm: Optional[str] = "batch",
                 lateral: bool = True):
        super().__init__()
        check_option("mixer", mixer, MIXERS)
        if mixer != "cnn" and not lateral:
            raise ValueError(f"lateral=False applies to the CNN mixer only: the {mixer} "
                             "mixer has one neuron, which never receives a lateral membrane")
        self.windows = windows
        self.norm1 = _block_norm(norm, dim)
        if mixer == "cnn":
            self.mixer = CNNTokenMixer(dim, neuron, windows, groups, neuron_kwargs, encode,
                                       conv_norm, lateral)
        else:
            self.mixer = LSTMTokenMixer(dim, neuron, windows, groups, neuron_kwargs, encode)
        self.norm2 = _block_norm(norm, dim)
        mlp_neuron = None
        if spiking_mlp:
            mlp_neuron = make_neuron(neuron, channels=int(mlp_ratio * dim), windows=windows,
                                     groups=groups, **check_neuron_kwargs(neuron_kwargs))
        self.mlp = MixerMLP(dim, mlp_ratio, dropout, mlp_neuron)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.mixer(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class PatchMerging(nn.Module):
    r"""Swin-style down-sampling of a map ``[B, C, H, W]`` to
    ``[B, C', ceil(H/2), ceil(W/2)]``.

    Odd sizes are zero-padded to even at the bottom/right; each 2x2 neighbourhood
    is concatenated (:math:`4C` channels), normalized and projected:

    .. math::

        y_{i,j} = W\, \mathrm{LN}\big([x_{2i,2j};\, x_{2i+1,2j};\, x_{2i,2j+1};\,
            x_{2i+1,2j+1}]\big), \qquad W: 4C \to C' \;(\text{default } C' = 2C)

    Example::

        >>> PatchMerging(4)(torch.rand(2, 4, 7, 7)).shape
        torch.Size([2, 8, 4, 4])

    :param dim: input channels :math:`C`
    :type dim: int
    :param out_dim: output channels :math:`C'`. Defaults to None (:math:`2C`)
    :type out_dim: int, optional
    """

    def __init__(self, dim: int, out_dim: Optional[int] = None):
        super().__init__()
        out_dim = 2 * dim if out_dim is None else out_dim
        self.norm = nn.LayerNorm(4 * dim)
        self.reduction = nn.Linear(4 * dim, out_dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        height, width = x.shape[-2:]
        if height % 2 or width % 2:
            x = F.pad(x, (0, width % 2, 0, height % 2))
        x = torch.cat(
            [x[..., 0::2, 0::2], x[..., 1::2, 0::2], x[..., 0::2, 1::2], x[..., 1::2, 1::2]],
            dim=1,
        )
        x = x.permute(0, 2, 3, 1)
        return self.reduction(self.norm(x)).permute(0, 3, 1, 2)


class MixerNet(SpikingModel):
    r"""The paper's hierarchical spiking mixer network (see the module docs).

    ``mixer="cnn"`` is the paper's "ResNET-12F", ``mixer="lstm"`` its "VIT-12";
    :func:`snntorch_ms.models.build_model` names them ``"cnn-mixer"`` and
    ``"lstm-mixer"``. The logits average ``timesteps`` steps on the same input:

    .. math::

        \hat y = \frac{1}{T} \sum_{t=1}^{T} W_h\, \mathrm{LN}\Big(\frac{1}{HW}
            \sum_{i,j} x^{(t)}_{L,i,j}\Big)

    Window schedule (``windows``): ``"alternate"`` (default) gives block ``k``
    (counted over the whole network from 0) ``"quad"`` windows when ``k`` is even
    and ``"overlap"`` when odd, except in the last stage, which uses ``"quad"``
    only; ``"quad"`` or ``"overlap"`` uses one scheme everywhere; ``None`` runs
    every block without windows. Blocks whose map is smaller than 2x2 at
    ``image_size`` run without windows whatever the schedule.

    Example::

        >>> net = MixerNet("cnn", num_classes=5, in_channels=1, image_size=16,
        ...                depths=(1, 1), dims=(4, 8))
        >>> net(torch.rand(2, 1, 16, 16)).shape
        torch.Size([2, 5])
        >>> [blk.windows for blk in net.blocks()]
        ['quad', 'quad']

    :param mixer: ``"cnn"`` or ``"lstm"``. Defaults to ``"cnn"``
    :type mixer: str, optional
    :param num_classes: number of classes. Defaults to 10
    :type num_classes: int, optional
    :param in_channels: input channels. Defaults to 3
    :type in_channels: int, optional
    :param image_size: input size, ``int`` or ``(H, W)``; fixes where windows fit.
        Defaults to 32
    :type image_size: int or tuple(int, int), optional
    :param depths: blocks per stage. Defaults to ``(2, 2, 6, 2)``
    :type depths: sequence of int, optional
    :param dims: channels per stage. Defaults to ``(48, 96, 192, 384)``
    :type dims: sequence of int, optional
    :param neuron: ``"proj"``, ``"leaky"`` or ``"relu"``. Defaults to ``"proj"``
    :type neuron: str, optional
    :param neuron_kwargs: neuron keywords (see :func:`~snntorch_ms.models.make_neuron`).
        Defaults to None
    :type neuron_kwargs: dict, optional
    :param windows: ``"alternate"``, ``"quad"``, ``"overlap"`` or None. Defaults to
        ``"alternate"``
    :type windows: str or None, optional
    :param groups: number of windows in ``{1, 2, 4}``. Defaults to 4
    :type groups: int, optional
    :param encode: ``"real"`` or ``"bernoulli"`` input of each token mixer. Defaults
        to ``"real"``
    :type encode: str, optional
    :param spiking_mlp: spiking MLPs (a fully spiking network). Defaults to False
    :type spiking_mlp: bool, optional
    :param mlp_ratio: MLP expansion. Defaults to 3
    :type mlp_ratio: int, optional
    :param dropout: dropout in the MLPs and before the head. Defaults to 0.0
    :type dropout: float, optional
    :param norm: ``"layer"``, ``"affine"`` or None. Defaults to ``"layer"``
    :type norm: str or None, optional
    :param conv_norm: ``"batch"`` or None (CNN mixer). Defaults to ``"batch"``
    :type conv_norm: str or None, optional
    :param timesteps: time steps :math:`T`. Defaults to 1
    :type timesteps: int, optional
    :param lateral: in the CNN mixer, pass the first neuron's membrane to the second
        (see :class:`~snntorch_ms.models.token_mixers.CNNTokenMixer`). Defaults to True
    :type lateral: bool, optional
    :raises ValueError: for an unknown mixer, schedule or number of windows,
        ``depths`` and ``dims`` of different lengths, or ``lateral=False`` with the
        LSTM mixer
    """

    def __init__(self, mixer: str = "cnn", num_classes: int = 10, in_channels: int = 3,
                 image_size=32, depths: Sequence[int] = (2, 2, 6, 2),
                 dims: Sequence[int] = (48, 96, 192, 384), neuron: str = "proj",
                 neuron_kwargs: Optional[dict] = None, windows="alternate", groups: int = 4,
                 encode: str = "real", spiking_mlp: bool = False, mlp_ratio: int = 3,
                 dropout: float = 0.0, norm: Optional[str] = "layer",
                 conv_norm: Optional[str] = "batch", timesteps: int = 1, lateral: bool = True):
        super().__init__(timesteps)
        check_option("mixer", mixer, MIXERS)
        check_option("windows", windows, WINDOW_SCHEDULES)
        check_option("groups", groups, GROUPS)
        neuron_kwargs = check_neuron_kwargs(neuron_kwargs)
        depths, dims = list(depths), list(dims)
        if len(depths) != len(dims) or not depths:
            raise ValueError(
                f"depths and dims need one entry per stage, got {depths} and {dims}"
            )
        self.mixer = mixer
        height, width = to_pair(image_size)
        self.image_size = (height, width)
        self.stem = nn.Conv2d(in_channels, dims[0], kernel_size=2, stride=2)
        self.stem_norm = _block_norm(norm, dims[0])
        height, width = height // 2, width // 2

        self.merges = nn.ModuleList()
        self.stages = nn.ModuleList()
        self.stage_sizes = []
        index = 0
        for stage, (depth, dim) in enumerate(zip(depths, dims)):
            if stage > 0:
                self.merges.append(PatchMerging(dims[stage - 1], dim))
                height, width = math.ceil(height / 2), math.ceil(width / 2)
            self.stage_sizes.append((height, width))
            last = stage == len(depths) - 1
            blocks = []
            for _ in range(depth):
                scheme = schedule_windows(windows, index)
                if last and windows == "alternate":
                    scheme = "quad"
                if not fits_windows(height, width):
                    scheme = None
                blocks.append(MixerBlock(
                    dim, mixer=mixer, neuron=neuron, windows=scheme, groups=groups,
                    neuron_kwargs=neuron_kwargs, encode=encode, spiking_mlp=spiking_mlp,
                    mlp_ratio=mlp_ratio, dropout=dropout, norm=norm, conv_norm=conv_norm,
                    lateral=lateral,
                ))
                index += 1
            self.stages.append(nn.Sequential(*blocks))
        self.head_norm = nn.LayerNorm(dims[-1])
        self.head_drop = nn.Dropout(dropout)
        self.head = nn.Linear(dims[-1], num_classes)

    def blocks(self):
        """The :class:`MixerBlock` of the network, in order."""
        return [blk for stage in self.stages for blk in stage]

    def step(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem_norm(self.stem(x))
        for stage, blocks in enumerate(self.stages):
            if stage > 0:
                x = self.merges[stage - 1](x)
            x = blocks(x)
        x = self.head_norm(x.mean(dim=(2, 3)))
        return self.head(self.head_drop(x))
