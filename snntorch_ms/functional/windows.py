"""Receptive-field windows: geometry, cutting a map into a window stack, and
recomposing a stack into a map.

All functions are pure tensor functions. A *map* is ``[B, C, H, W]``; a *window
stack* is ``[B, g, C, h, w]``, window ``p`` at ``stack[:, p]``. The window order is
top-left, top-right, bottom-left, bottom-right (``g = 4``), left, right (``g = 2``),
or the whole map (``g = 1``).
"""

from __future__ import annotations

import math
from typing import List, Sequence, Tuple

import torch

__all__ = [
    "WINDOW_SCHEMES",
    "GROUPS",
    "window_size",
    "window_boxes",
    "coverage",
    "cut_windows",
    "recompose_spikes",
    "recompose_membrane",
]

#: Window schemes understood by :func:`window_boxes`.
WINDOW_SCHEMES = ("quad", "overlap")
#: Numbers of windows understood by :func:`window_boxes`.
GROUPS = (1, 2, 4)

Box = Tuple[int, int, int, int]


def check_scheme(windows, groups, allow_none: bool = False) -> None:
    """Raise ``ValueError`` for an unknown window scheme or number of windows
    (``windows=None``, no windows, is accepted with ``allow_none=True``)."""
    if windows is None and allow_none:
        pass
    elif windows not in WINDOW_SCHEMES:
        raise ValueError(
            f"unknown windows={windows!r}: expected one of {WINDOW_SCHEMES} "
            "(or None for no windows)"
        )
    if groups not in GROUPS:
        raise ValueError(f"unknown groups={groups!r}: expected one of {GROUPS}")


def _side(n: int, windows: str, split: bool) -> int:
    if not split:
        return n
    return math.ceil(n / 2) if windows == "quad" else math.ceil(3 * n / 4)


def window_size(height: int, width: int, windows: str = "quad", groups: int = 4):
    r"""Height and width ``(h, w)`` of every window of an ``H x W`` map.

    .. math::

        h = \begin{cases} \lceil H/2 \rceil & \text{quad}, g=4 \\
        \lceil 3H/4 \rceil & \text{overlap}, g=4 \\ H & g \in \{1, 2\}\end{cases}
        \qquad
        w = \begin{cases} \lceil W/2 \rceil & \text{quad}, g \in \{2,4\} \\
        \lceil 3W/4 \rceil & \text{overlap}, g \in \{2,4\} \\ W & g = 1\end{cases}

    Example::

        >>> window_size(5, 4, "quad", 4)
        (3, 2)
        >>> window_size(8, 8, "overlap", 2)
        (8, 6)

    :param height: map height :math:`H`
    :type height: int
    :param width: map width :math:`W`
    :type width: int
    :param windows: window scheme, ``"quad"`` or ``"overlap"``. Defaults to ``"quad"``
    :type windows: str, optional
    :param groups: number of windows :math:`g` in ``{1, 2, 4}``. Defaults to 4
    :type groups: int, optional
    :return: the window size ``(h, w)``
    :rtype: tuple(int, int)
    :raises ValueError: for an unknown scheme or number of windows
    """
    check_scheme(windows, groups)
    return _side(height, windows, groups == 4), _side(width, windows, groups >= 2)


def window_boxes(height: int, width: int, windows: str = "quad", groups: int = 4) -> List[Box]:
    r"""The ``(top, bottom, left, right)`` boxes of the ``g`` windows, in order.

    Windows are anchored at the corners of the map: for ``g = 4`` top-left,
    top-right, bottom-left, bottom-right; for ``g = 2`` left, right; for ``g = 1``
    the whole map. With ``(h, w)`` from :func:`window_size`, window ``p`` covers
    rows ``[top, top + h)`` and columns ``[left, left + w)`` with

    .. math::

        top \in \{0, H - h\}, \qquad left \in \{0, W - w\}.

    ``"quad"`` windows partition an even-sized map and overlap by one row or column
    on an odd size; ``"overlap"`` windows always overlap.

    Example::

        >>> window_boxes(4, 4, "quad", 4)
        [(0, 2, 0, 2), (0, 2, 2, 4), (2, 4, 0, 2), (2, 4, 2, 4)]
        >>> window_boxes(4, 4, "overlap", 2)
        [(0, 4, 0, 3), (0, 4, 1, 4)]

    :param height: map height :math:`H`
    :type height: int
    :param width: map width :math:`W`
    :type width: int
    :param windows: window scheme, ``"quad"`` or ``"overlap"``. Defaults to ``"quad"``
    :type windows: str, optional
    :param groups: number of windows :math:`g` in ``{1, 2, 4}``. Defaults to 4
    :type groups: int, optional
    :return: one ``(top, bottom, left, right)`` box per window, in window order
    :rtype: list(tuple(int, int, int, int))
    :raises ValueError: for an unknown scheme, or ``groups > 1`` on a map smaller than 2x2
    """
    if height < 2 or width < 2:
        if groups > 1:
            raise ValueError(
                f"windows need a map with H, W >= 2, got H={height}, W={width}; "
                "pass windows=None to run the neuron without windows (with "
                "projection=\"none\" as well for exactly snntorch.Leaky)"
            )
    h, w = window_size(height, width, windows, groups)
    tops = [0, height - h] if groups == 4 else [0]
    lefts = [0, width - w] if groups >= 2 else [0]
    return [(t, t + h, l, l + w) for t in tops for l in lefts]


def coverage(height: int, width: int, windows: str = "quad", groups: int = 4,
             device=None, dtype=torch.float32) -> torch.Tensor:
    r"""How many windows cover each position: an ``[H, W]`` tensor.

    .. math::

        n(i, j) = \#\{p : (i, j) \in \text{window } p\}

    Example::

        >>> coverage(3, 3, "quad", 4)
        tensor([[1., 2., 1.],
                [2., 4., 2.],
                [1., 2., 1.]])

    :param height: map height :math:`H`
    :type height: int
    :param width: map width :math:`W`
    :type width: int
    :param windows: window scheme, ``"quad"`` or ``"overlap"``. Defaults to ``"quad"``
    :type windows: str, optional
    :param groups: number of windows :math:`g` in ``{1, 2, 4}``. Defaults to 4
    :type groups: int, optional
    :param device: device of the result. Defaults to None (the default device)
    :type device: torch.device or str, optional
    :param dtype: dtype of the result. Defaults to ``torch.float32``
    :type dtype: torch.dtype, optional
    :return: the number of windows covering each position, ``[H, W]``
    :rtype: torch.Tensor
    """
    n = torch.zeros(height, width, device=device, dtype=dtype)
    for t, b, l, r in window_boxes(height, width, windows, groups):
        n[t:b, l:r] += 1
    return n


def cut_windows(x: torch.Tensor, windows: str = "quad", groups: int = 4) -> torch.Tensor:
    r"""Cut a map ``[B, C, H, W]`` into a window stack ``[B, g, C, h, w]``.

    .. math::

        X_p = X[:, :, top_p : bottom_p, left_p : right_p], \qquad
        \text{stack} = (X_1, \dots, X_g)

    Example::

        >>> x = torch.arange(16.).reshape(1, 1, 4, 4)
        >>> cut_windows(x, "quad", 4)[0, 1, 0]
        tensor([[2., 3.],
                [6., 7.]])

    :param x: a map ``[B, C, H, W]``
    :type x: torch.Tensor
    :param windows: window scheme, ``"quad"`` or ``"overlap"``. Defaults to ``"quad"``
    :type windows: str, optional
    :param groups: number of windows :math:`g` in ``{1, 2, 4}``. Defaults to 4
    :type groups: int, optional
    :return: the window stack ``[B, g, C, h, w]``
    :rtype: torch.Tensor
    :raises ValueError: if ``x`` is not 4-dimensional, or for an unknown scheme
    """
    if x.dim() != 4:
        raise ValueError(
            f"cut_windows expects a map [B, C, H, W], got shape {tuple(x.shape)}"
        )
    height, width = x.shape[-2], x.shape[-1]
    boxes = window_boxes(height, width, windows, groups)
    if _is_partition(height, width, windows, groups):
        return _partition_to_stack(x, groups)
    return torch.stack([x[..., t:b, l:r] for t, b, l, r in boxes], dim=1)


def _is_partition(height: int, width: int, windows: str, groups: int) -> bool:
    # quad windows of an even map tile it: cutting and recomposing are reshapes
    if windows != "quad" or groups == 1:
        return groups == 1
    return width % 2 == 0 and (groups == 2 or height % 2 == 0)


def _partition_to_stack(x: torch.Tensor, groups: int) -> torch.Tensor:
    b, c, height, width = x.shape
    if groups == 1:
        return x.unsqueeze(1)
    rows = 2 if groups == 4 else 1
    h, w = height // rows, width // 2
    tiles = x.reshape(b, c, rows, h, 2, w).permute(0, 2, 4, 1, 3, 5)
    return tiles.reshape(b, groups, c, h, w)


def _stack_to_partition(stack: torch.Tensor, height: int, width: int) -> torch.Tensor:
    # always a tensor of its own (one copy), never a view of the stack: a neuron
    # keeps this map as its state and snntorch detaches that in place
    b, groups, c, h, w = stack.shape
    if groups == 1:
        return stack[:, 0].clone()
    rows = 2 if groups == 4 else 1
    tiles = stack.reshape(b, rows, 2, c, h, w).permute(0, 3, 1, 4, 2, 5)
    out = stack.new_empty(b, c, height, width)
    out.view(b, c, rows, h, 2, w).copy_(tiles)
    return out


def _check_stack(stack: torch.Tensor, size: Sequence[int], windows: str) -> List[Box]:
    if stack.dim() != 5:
        raise ValueError(
            f"expected a window stack [B, g, C, h, w], got shape {tuple(stack.shape)}"
        )
    height, width = int(size[0]), int(size[1])
    groups = stack.shape[1]
    boxes = window_boxes(height, width, windows, groups)
    h, w = boxes[0][1] - boxes[0][0], boxes[0][3] - boxes[0][2]
    if tuple(stack.shape[-2:]) != (h, w):
        raise ValueError(
            f"a {windows!r} stack of {groups} windows for a {height}x{width} map has "
            f"windows of {h}x{w}, got {tuple(stack.shape[-2:])}"
        )
    return boxes


def recompose_spikes(stack: torch.Tensor, size: Sequence[int], windows: str = "quad",
                     condense: str = "or", magnitude=None) -> torch.Tensor:
    r"""Recompose a spike stack ``[B, g, C, h, w]`` into a map ``[B, C, H, W]``.

    The mean over the windows that cover a position (the "median spikes" 0.25,
    0.5, 0.75 of the paper) is

    .. math::

        M(i, j) = \frac{1}{n(i, j)} \sum_{p \ni (i, j)} S_p(i, j).

    ``condense="mean"`` returns :math:`M`; ``condense="or"`` returns a binary map
    with a straight-through gradient,

    .. math::

        S(i, j) = s \cdot \mathbb{1}[M(i, j) \neq 0],
        \qquad \frac{\partial S}{\partial M} = 1,

    where :math:`s` is the magnitude of the spikes: ``magnitude`` (the neuron
    passes its ``graded_spikes_factor``; passing it states that the stack holds
    spikes in :math:`\{0, s\}`), or, when ``None``, the largest
    :math:`|S_p|` in the stack.

    Example::

        >>> s = torch.zeros(1, 4, 1, 2, 2); s[0, 0, 0, 1, 1] = 1.
        >>> recompose_spikes(s, (3, 3), "quad", "mean")[0, 0]
        tensor([[0.0000, 0.0000, 0.0000],
                [0.0000, 0.2500, 0.0000],
                [0.0000, 0.0000, 0.0000]])
        >>> recompose_spikes(s, (3, 3), "quad", "or")[0, 0, 1, 1]
        tensor(1.)

    :param stack: a spike stack ``[B, g, C, h, w]`` (``g`` is read from its shape)
    :type stack: torch.Tensor
    :param size: the map size ``(H, W)``
    :type size: tuple(int, int)
    :param windows: window scheme the stack was cut with, ``"quad"`` or ``"overlap"``.
        Defaults to ``"quad"``
    :type windows: str, optional
    :param condense: ``"or"`` (binary map, straight-through gradient) or ``"mean"``
        (the mean :math:`M`). Defaults to ``"or"``
    :type condense: str, optional
    :param magnitude: the spike magnitude :math:`s`, scalar or broadcastable to
        ``[C, 1, 1]``. Defaults to None (the largest :math:`|S_p|` in the stack)
    :type magnitude: float or torch.Tensor, optional
    :return: the spike map ``[B, C, H, W]``
    :rtype: torch.Tensor
    :raises ValueError: for an unknown ``condense`` or a stack that does not fit ``size``
    """
    if condense not in ("or", "mean"):
        raise ValueError(f"unknown condense={condense!r}: expected 'or' or 'mean'")
    height, width = int(size[0]), int(size[1])
    boxes = _check_stack(stack, size, windows)
    if _is_partition(height, width, windows, len(boxes)):
        mean = _stack_to_partition(stack, height, width)  # one window per position
        if magnitude is not None:
            # spikes in {0, s} (the neuron's promise with ``magnitude``): with one window
            # per position the condensed map is the mean itself, in value and gradient
            return mean
    else:
        total = stack.new_zeros(stack.shape[0], *stack.shape[2:-2], height, width)
        for p, (t, b, l, r) in enumerate(boxes):
            total[..., t:b, l:r] += stack[:, p]
        n = coverage(height, width, windows, len(boxes), device=stack.device, dtype=stack.dtype)
        mean = total / n
    if condense == "mean":
        return mean
    if magnitude is None:
        # all spikes of a stack share one magnitude: the largest |value| is that magnitude
        magnitude = stack.detach().abs().amax()
    magnitude = torch.as_tensor(magnitude, dtype=mean.dtype, device=mean.device).detach()
    binary = torch.where(mean.detach() != 0, magnitude, torch.zeros_like(mean))
    return binary + (mean - mean.detach())


def recompose_membrane(stack: torch.Tensor, size: Sequence[int],
                       windows: str = "quad") -> torch.Tensor:
    r"""Recompose a membrane stack ``[B, g, C, h, w]`` into a map ``[B, C, H, W]``.

    Each position keeps the value of the *last* window that covers it, i.e. the
    membrane that neuron ends the time step with:

    .. math::

        U(i, j) = U_{p^*}(i, j), \qquad p^* = \max\{p : (i, j) \in \text{window } p\}.

    The crop of window ``g`` is therefore exactly ``stack[:, g - 1]``.

    Example::

        >>> u = torch.arange(4.).reshape(1, 4, 1, 1, 1).expand(1, 4, 1, 2, 2)
        >>> recompose_membrane(u, (3, 3), "quad")[0, 0]
        tensor([[0., 1., 1.],
                [2., 3., 3.],
                [2., 3., 3.]])

    :param stack: a membrane stack ``[B, g, C, h, w]`` (``g`` is read from its shape)
    :type stack: torch.Tensor
    :param size: the map size ``(H, W)``
    :type size: tuple(int, int)
    :param windows: window scheme the stack was cut with, ``"quad"`` or ``"overlap"``.
        Defaults to ``"quad"``
    :type windows: str, optional
    :return: the membrane map ``[B, C, H, W]``
    :rtype: torch.Tensor
    :raises ValueError: for a stack that does not fit ``size``
    """
    height, width = int(size[0]), int(size[1])
    boxes = _check_stack(stack, size, windows)
    if _is_partition(height, width, windows, len(boxes)):
        return _stack_to_partition(stack, height, width)
    # windows written in order into a fresh map: later windows overwrite earlier ones
    out = stack.new_zeros(stack.shape[0], *stack.shape[2:-2], height, width)
    for p, (t, b, l, r) in enumerate(boxes):
        out[..., t:b, l:r] = stack[:, p]
    return out
