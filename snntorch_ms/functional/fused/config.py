r"""The static options of one fused time step and the window geometry that every
fused engine (eager, compiled, Triton) shares."""

from __future__ import annotations

from typing import NamedTuple, Optional

import torch

from .. import spec
from ..windows import window_boxes

__all__ = ["FusedConfig", "fused_unsupported"]


class FusedConfig(NamedTuple):
    r"""The static options of one fused scan (hashable: a compile cache key).

    ``layout`` is ``"map"`` (``boxes`` and ``size`` give the windows of the
    ``H x W`` map, ``condense`` the spike recomposition), ``"stack"``
    (``[B, g, ...]``, nothing recomposed) or ``"single"`` (one window of any
    shape: a neuron without windows). ``surrogate`` is a
    :func:`~snntorch_ms.functional.spec.recognise_surrogate` pair.

    .. math::

        \text{cfg} = (\text{layout}, \text{boxes}, (H, W), \Omega,
        \text{reset}, \text{condense}, \sigma)

    Example::

        >>> cfg = FusedConfig.for_map(4, 4, "quad", 4, "sincos", "subtract", "or", ("atan", 2.0))
        >>> cfg.partition
        True
    """

    layout: str
    boxes: tuple
    size: tuple
    projection: str
    reset: str
    condense: str
    surrogate: tuple
    partition: bool

    @staticmethod
    def for_map(height, width, windows, groups, projection, reset, condense, surrogate):
        r"""The configuration of a map ``[B, C, H, W]`` cut into ``windows``; the
        windows *partition* the map when their areas add up to it,

        .. math::

            \sum_p h_p w_p = H W.

        Example::

            >>> FusedConfig.for_map(5, 4, "quad", 4, "none", "zero", "mean", ("atan", 2.0)).boxes
            ((0, 3, 0, 2), (0, 3, 2, 4), (2, 5, 0, 2), (2, 5, 2, 4))
        """
        boxes = tuple(tuple(box) for box in window_boxes(height, width, windows, groups))
        partition = sum((b - t) * (r - l) for t, b, l, r in boxes) == height * width
        return FusedConfig("map", boxes, (height, width), projection, reset, condense,
                           tuple(surrogate), partition)

    @staticmethod
    def for_stack(projection, reset, surrogate):
        r"""The configuration of a window stack ``[B, g, ...]`` (window :math:`p`
        at ``x[:, p]``; nothing is cut or recomposed).

        .. math::

            I_p = x_{:, p}

        Example::

            >>> FusedConfig.for_stack("sincos", "subtract", ("atan", 2.0)).layout
            'stack'
        """
        return FusedConfig("stack", (), (), projection, reset, "mean", tuple(surrogate), True)

    @staticmethod
    def for_single(projection, reset, surrogate):
        r"""The configuration of one window of any shape (a neuron without windows):
        the time step is one sub-step, :math:`g = 1`.

        .. math::

            I_1 = x

        Example::

            >>> FusedConfig.for_single("sincos", "subtract", ("atan", 2.0)).layout
            'single'
        """
        return FusedConfig("single", (), (), projection, reset, "mean", tuple(surrogate), True)

    # ids and constants the engines read off the spec
    @property
    def proj_id(self) -> int:
        """The projection's id in :data:`~snntorch_ms.functional.spec.PROJECTIONS`."""
        return spec.projection_id(self.projection)

    @property
    def reset_id(self) -> int:
        """The reset's id in :data:`~snntorch_ms.functional.spec.RESETS`."""
        return spec.reset_id(self.reset)

    @property
    def scale(self) -> float:
        """The projection's constant factor (folded into beta)."""
        return spec.PROJ_SCALE[self.projection]

    def coefficients(self, beta, theta):
        """``(beta_eff, k)``: beta clipped to ``[0, 1]`` times the projection's factor,
        and ``k = theta pi / 2``, as every engine's sub-step uses them."""
        return beta.clamp(0, 1) * self.scale, theta * spec.HALF_PI

    def parameter_grads(self, beta, theta, g_beta, g_k, need_theta):
        """The gradients of ``beta`` and ``theta`` from their sums over the windows:
        ``beta``'s masked where the clip to ``[0, 1]`` is active, ``k``'s times
        ``pi / 2``, and zeros for a ``theta`` that no window used."""
        if g_beta is not None:
            g_beta = g_beta * ((beta >= 0) & (beta <= 1))
        g_theta = g_k * spec.HALF_PI if g_k is not None else None
        if need_theta and g_theta is None and self.projection in ("sincos", "nested"):
            g_theta = torch.zeros_like(theta)
        return g_beta, g_theta


@torch.compiler.assume_constant_result
def fused_unsupported(*, projection, spike_grad, reset_mechanism="subtract", condense="or",
                      state_quant=False, inhibition=False, reset_delay=True,
                      graded_spikes_factor=None) -> Optional[str]:
    r"""Why the fused path cannot run these neuron options: ``None`` when it can,
    else the name of the first option it does not cover (a callable
    ``projection``, an unrecognised ``spike_grad``, ``state_quant``,
    ``inhibition``, ``reset_delay=False``, a learnable ``graded_spikes_factor``).

    .. math::

        \text{supported} \iff \Omega \in \texttt{spec.PROJECTIONS} \wedge
        \sigma \in \texttt{spec.SURROGATE\_KINDS} \wedge \dots

    Example::

        >>> from snntorch import surrogate
        >>> fused_unsupported(projection="sincos", spike_grad=surrogate.atan()) is None
        True
        >>> fused_unsupported(projection=lambda a, b: a, spike_grad=surrogate.atan())
        'projection (callable)'
    """
    if callable(projection) or projection not in spec.PROJECTIONS:
        return "projection (callable)"
    if spec.recognise_surrogate(spike_grad) is None:
        return f"spike_grad ({getattr(spike_grad, '__qualname__', type(spike_grad).__name__)})"
    if reset_mechanism not in spec.RESETS:
        return f"reset_mechanism ({reset_mechanism!r})"
    if condense not in ("or", "mean"):
        return f"condense ({condense!r})"
    if state_quant:
        return "state_quant"
    if inhibition:
        return "inhibition"
    if not reset_delay:
        return "reset_delay=False"
    if isinstance(graded_spikes_factor, torch.Tensor) and graded_spikes_factor.requires_grad:
        return "learn_graded_spikes_factor"
    return None


def out_dtype(*tensors) -> torch.dtype:
    """The dtype the reference arithmetic promotes to: 0-dim parameters do not promote."""
    dtypes = [t.dtype for t in tensors if t is not None and t.dim() > 0]
    out = dtypes[0]
    for d in dtypes[1:]:
        out = torch.promote_types(out, d)
    return out


# --------------------------------------------------------------------------- #
# window geometry
# --------------------------------------------------------------------------- #


def window(cfg: FusedConfig, t: torch.Tensor, p: int) -> torch.Tensor:
    """Window ``p`` of a map (a view), of a stack (``t[:, p]``) or the single window."""
    if cfg.layout == "map":
        top, bottom, left, right = cfg.boxes[p]
        return t[..., top:bottom, left:right]
    if cfg.layout == "single":
        return t
    return t[:, p]


def groups(cfg: FusedConfig, x: torch.Tensor) -> int:
    """The number of window sub-steps."""
    if cfg.layout == "map":
        return len(cfg.boxes)
    return 1 if cfg.layout == "single" else x.shape[1]


def disjoint(cfg: FusedConfig) -> bool:
    """Whether every position belongs to exactly one window."""
    return cfg.layout != "map" or cfg.partition


_COVERAGE: dict = {}


def coverage(cfg, device, dtype):
    """``[H, W]``: how many windows cover each position (cached per geometry)."""
    key = (cfg.boxes, cfg.size, str(device), dtype)
    n = None if torch.compiler.is_compiling() else _COVERAGE.get(key)
    if n is None:
        height, width = cfg.size
        n = torch.zeros(height, width, device=device, dtype=dtype)
        for t, b, l, r in cfg.boxes:
            n[t:b, l:r] += 1
        if not torch.compiler.is_compiling():
            _COVERAGE[key] = n
    return n


def last_cover(cfg: FusedConfig, p: int):
    """Parts of window p's box that no later window covers, as a list of
    (row slice, col slice) in window coordinates; None when all of it."""
    top, bottom, left, right = cfg.boxes[p]
    later = cfg.boxes[p + 1:]
    if not later:
        return None
    rows = sorted({top, bottom,
                   *[min(max(v, top), bottom) for t, b, _, _ in later for v in (t, b)]})
    cols = sorted({left, right,
                   *[min(max(v, left), right) for _, _, l, r in later for v in (l, r)]})
    keep = []
    for r0, r1 in zip(rows, rows[1:]):
        for c0, c1 in zip(cols, cols[1:]):
            covered = any(t <= r0 and r1 <= b and l <= c0 and c1 <= r for t, b, l, r in later)
            if not covered:
                keep.append((slice(r0 - top, r1 - top), slice(c0 - left, c1 - left)))
    return keep


def sum_to(t, like: torch.Tensor):
    """``t`` summed to the shape of a (scalar or per-channel) parameter."""
    return t.sum_to_size(like.shape) if like.dim() else t.sum()


def acc(total, term):
    """``total + term``, with ``None`` as an empty total."""
    return term if total is None else total + term
