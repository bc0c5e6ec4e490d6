r"""The paper's two token mixers, on a map ``[B, C, H, W]``: the map is cut into a
window stack, the synapse runs on each window (zero padding at window borders), the
neurons run on the stack, and the spikes are recomposed into a map.

* ``"cnn"`` (:class:`CNNTokenMixer`, the paper's "ResNET-12F"): per window,
  conv3x3 -> neuron -> conv3x3 -> neuron fed the first neuron's membrane as
  ``lateral``; recompose; Linear C -> C;
* ``"lstm"`` (:class:`LSTMTokenMixer`, the paper's "VIT-12"): per window, a
  bidirectional LSTM over the window's tokens -> neuron -> recompose;
  Linear 2C -> C.

.. math::

    y = W\, \mathrm{recompose}\big(\mathrm{LIF}(\mathrm{synapse}(X_p))_{p=1..g}\big)

The blocks and networks built from them are in :mod:`snntorch_ms.models.mixers`.

Example::

    >>> import torch
    >>> CNNTokenMixer(4, neuron="leaky")(torch.rand(2, 4, 6, 6)).shape
    torch.Size([2, 4, 6, 6])
"""

from __future__ import annotations

from typing import Optional

import torch
from torch import nn

from ..functional.windows import GROUPS, cut_windows
from .base import linear_channels_last
from .neurons import check_neuron_kwargs, fits_windows, make_neuron

__all__ = ["ENCODINGS", "CONV_NORMS", "encode_input", "CNNTokenMixer", "LSTMTokenMixer"]

#: Input encodings of a block's first synapse.
ENCODINGS = ("real", "bernoulli")
#: Norms after the per-window convolutions of the CNN mixer.
CONV_NORMS = ("batch", None)


def check_option(name, value, options):
    if value not in options:
        raise ValueError(f"unknown {name}={value!r}: expected one of {options}")


def encode_input(x: torch.Tensor, encode: str = "real") -> torch.Tensor:
    r"""The input of a block's first synapse.

    ``"real"`` passes the real-valued map (that synapse is then billed as MACs).
    ``"bernoulli"`` reproduces the released code's random re-encoding: each value,
    clipped to :math:`[0, 1]`, is the probability of a spike,

    .. math::

        \tilde x \sim \mathrm{Bernoulli}(\mathrm{clip}(x, 0, 1)),

    sampled on every call (in training and in evaluation) and **without
    gradient**: nothing flows back through :math:`\tilde x` (the block's residual
    path still carries the gradient).

    Example::

        >>> x = torch.tensor([[-1.0, 0.0, 1.0, 3.0]])
        >>> encode_input(x, "bernoulli")
        tensor([[0., 0., 1., 1.]])

    :param x: the block's input (any shape)
    :type x: torch.Tensor
    :param encode: ``"real"`` or ``"bernoulli"``. Defaults to ``"real"``
    :type encode: str, optional
    :return: ``x`` itself, or a 0/1 tensor of its shape without gradient
    :rtype: torch.Tensor
    :raises ValueError: for an unknown ``encode``
    """
    check_option("encode", encode, ENCODINGS)
    if encode == "real":
        return x
    with torch.no_grad():
        return torch.bernoulli(x.detach().clamp(0, 1))


class _WindowedMixer(nn.Module):
    """Shared window handling of the token mixers."""

    def __init__(self, windows, groups, encode):
        super().__init__()
        if windows is not None:
            check_option("windows", windows, ("quad", "overlap"))
        check_option("groups", groups, GROUPS)
        check_option("encode", encode, ENCODINGS)
        self.windows = windows
        self.groups = groups if windows is not None else 1
        self.encode = encode

    def extra_repr(self) -> str:
        return f"windows={self.windows!r}, groups={self.groups}, encode={self.encode!r}"

    def cut(self, x: torch.Tensor) -> torch.Tensor:
        """Map ``[B, C, H, W]`` to window stack ``[B, g, C, h, w]`` (``g = 1``
        without windows)."""
        if self.windows is None:
            return x.unsqueeze(1)
        height, width = x.shape[-2:]
        if not fits_windows(height, width):
            raise ValueError(
                f"this {self.windows!r} block needs maps of at least 2x2 but got "
                f"{height}x{width}: build the model with the image_size of its inputs "
                "(blocks whose maps are smaller than 2x2 are then built without windows)"
            )
        return cut_windows(x, self.windows, self.groups)

    @staticmethod
    def per_window(module: nn.Module, stack: torch.Tensor) -> torch.Tensor:
        """Apply ``module`` to every window of ``[B, g, C, h, w]`` (as a batch of
        ``B * g`` maps, so convolutions zero-pad at the window borders)."""
        batch, groups = stack.shape[:2]
        out = module(stack.flatten(0, 1))
        return out.unflatten(0, (batch, groups))


class CNNTokenMixer(_WindowedMixer):
    r"""The CNN token mixer (the paper's "ResNET-12F" block), on a map ``[B, C, H, W]``.

    The (encoded) map is cut into a window stack :math:`X_p`; each window is
    convolved on its own (zero padding at window borders); the two neurons run
    on the stacks, the second one fed the first one's membrane stack as
    ``lateral``:

    .. math::

        (S^1, U^1) &= \mathrm{LIF}_1\big(\mathrm{BN}(W_1 * X_p)\big)_{p=1..g} \\
        (S^2, U^2) &= \mathrm{LIF}_2\big(\mathrm{BN}(W_2 * S^1_p)_{p=1..g},\;
            \mathrm{lateral} = U^1\big) \\
        y &= W_3\, \mathrm{recompose}(S^2), \qquad W_3: C \to C

    ``"leaky"`` and ``"relu"`` neurons run the same structure (windows,
    per-window convolutions, recomposition); only ProjLeaky uses ``lateral``.

    Example::

        >>> m = CNNTokenMixer(4, neuron="proj", windows="quad")
        >>> m(torch.rand(2, 4, 6, 6)).shape
        torch.Size([2, 4, 6, 6])

    :param dim: channels :math:`C`
    :type dim: int
    :param neuron: ``"proj"``, ``"leaky"`` or ``"relu"``. Defaults to ``"proj"``
    :type neuron: str, optional
    :param windows: ``"quad"``, ``"overlap"`` or None (whole map). Defaults to ``"quad"``
    :type windows: str or None, optional
    :param groups: number of windows in ``{1, 2, 4}``. Defaults to 4
    :type groups: int, optional
    :param neuron_kwargs: neuron keywords (see :func:`make_neuron`). Defaults to None
    :type neuron_kwargs: dict, optional
    :param encode: ``"real"`` or ``"bernoulli"`` (see :func:`encode_input`). Defaults
        to ``"real"``
    :type encode: str, optional
    :param conv_norm: ``"batch"`` or None. Defaults to ``"batch"``
    :type conv_norm: str or None, optional
    :param lateral: feed the first neuron's membrane to the second as ``lateral``
        (the paper's "previous layer's membrane"); False runs the second neuron on its
        own carried membrane only (the paper's Table 4 ablation). Defaults to True
    :type lateral: bool, optional
    """

    def __init__(self, dim: int, neuron: str = "proj", windows="quad", groups: int = 4,
                 neuron_kwargs: Optional[dict] = None, encode: str = "real",
                 conv_norm: Optional[str] = "batch", lateral: bool = True):
        super().__init__(windows, groups, encode)
        check_option("conv_norm", conv_norm, CONV_NORMS)
        nk = check_neuron_kwargs(neuron_kwargs)
        bias = conv_norm is None
        self.conv1 = nn.Conv2d(dim, dim, 3, padding=1, bias=bias)
        self.bn1 = nn.BatchNorm2d(dim) if conv_norm == "batch" else nn.Identity()
        self.neuron1 = make_neuron(neuron, channels=dim, windows=windows, groups=groups, **nk)
        self.conv2 = nn.Conv2d(dim, dim, 3, padding=1, bias=bias)
        self.bn2 = nn.BatchNorm2d(dim) if conv_norm == "batch" else nn.Identity()
        self.neuron2 = make_neuron(neuron, channels=dim, windows=windows, groups=groups, **nk)
        self.proj = nn.Linear(dim, dim)
        self.lateral = bool(lateral)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        size = x.shape[-2:]
        stack = self.cut(encode_input(x, self.encode))
        cur1 = self.per_window(lambda t: self.bn1(self.conv1(t)), stack)
        spk1, mem1 = self.neuron1(cur1)
        cur2 = self.per_window(lambda t: self.bn2(self.conv2(t)), spk1)
        spk2, _ = self.neuron2(cur2, lateral=mem1 if self.lateral else None)
        out = self.neuron2.recompose(spk2, size)
        return linear_channels_last(self.proj, out)


class LSTMTokenMixer(_WindowedMixer):
    r"""The LSTM token mixer (the paper's "VIT-12" block), on a map ``[B, C, H, W]``.

    Each window's :math:`h w` tokens, in row-major order, run through one
    bidirectional LSTM layer (hidden size :math:`C` per direction); its output
    is the neuron's current (:math:`2C` channels, window stack layout):

    .. math::

        I_p &= \big[\overrightarrow{\mathrm{LSTM}}(X_p) \,;\,
            \overleftarrow{\mathrm{LSTM}}(X_p)\big] \in \mathbb{R}^{2C \times h \times w} \\
        (S, U) &= \mathrm{LIF}(I_1, \dots, I_g) \\
        y &= W\, \mathrm{recompose}(S), \qquad W: 2C \to C

    Example::

        >>> m = LSTMTokenMixer(4, neuron="leaky", windows="overlap")
        >>> m(torch.rand(2, 4, 4, 4)).shape
        torch.Size([2, 4, 4, 4])

    :param dim: channels :math:`C`
    :type dim: int
    :param neuron: ``"proj"``, ``"leaky"`` or ``"relu"``. Defaults to ``"proj"``
    :type neuron: str, optional
    :param windows: ``"quad"``, ``"overlap"`` or None (whole map). Defaults to ``"quad"``
    :type windows: str or None, optional
    :param groups: number of windows in ``{1, 2, 4}``. Defaults to 4
    :type groups: int, optional
    :param neuron_kwargs: neuron keywords (see :func:`make_neuron`). Defaults to None
    :type neuron_kwargs: dict, optional
    :param encode: ``"real"`` or ``"bernoulli"`` (see :func:`encode_input`). Defaults
        to ``"real"``
    :type encode: str, optional
    """

    def __init__(self, dim: int, neuron: str = "proj", windows="quad", groups: int = 4,
                 neuron_kwargs: Optional[dict] = None, encode: str = "real"):
        super().__init__(windows, groups, encode)
        self.lstm = nn.LSTM(dim, dim, batch_first=True, bidirectional=True)
        self.neuron = make_neuron(neuron, channels=2 * dim, windows=windows, groups=groups,
                                  **check_neuron_kwargs(neuron_kwargs))
        self.proj = nn.Linear(2 * dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        size = x.shape[-2:]
        stack = self.cut(encode_input(x, self.encode))
        batch, groups, channels, height, width = stack.shape
        tokens = stack.flatten(0, 1).flatten(2).transpose(1, 2)  # [B*g, h*w, C], row-major
        cur, _ = self.lstm(tokens)  # [B*g, h*w, 2C]
        cur = cur.transpose(1, 2).reshape(batch, groups, 2 * channels, height, width)
        spk, _ = self.neuron(cur)
        out = self.neuron.recompose(spk, size)
        return linear_channels_last(self.proj, out)
