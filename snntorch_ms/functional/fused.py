r"""The fused window scan: the whole time step of a :class:`~snntorch_ms.ProjLeaky`
(cut, projection, update, reset, surrogate, recomposition) as one forward and one
hand-written backward.

The reference path (:func:`~snntorch_ms.functional.window_scan` between
:func:`~snntorch_ms.functional.cut_windows` and the two ``recompose_*``
functions) records every sub-step on the autograd tape. Here
:class:`FusedWindowScan` keeps one map-sized tensor besides the carried membrane,
the lateral membrane and the parameters: when the windows are disjoint (a stack,
or ``"quad"`` windows on an even-sized map) its own membrane output, which holds
every window membrane :math:`U_p`; otherwise the input current, from which
backward recomputes the :math:`U_p`. Backward then runs the gradient of the
recursion backwards through the windows.
Window :math:`p` (:math:`A = U_{p-1}`, :math:`L = L_{p-1}`,
:math:`k = \theta\pi/2`, :math:`R = \Theta(A - \vartheta)` detached):

.. math::

    C_p &= \Omega(A, L), \qquad
    U_p = \beta\, z_p C_p + I_p - \vartheta R\, [\text{subtract}], \qquad
    z_p = 1 - R\, [\text{zero}] \text{ else } 1 \\
    S_p &= \Theta(U_p - \vartheta)\, s

and, with :math:`\bar X = \partial\mathcal L / \partial X` and :math:`\sigma'` the
surrogate derivative, from the last window to the first:

.. math::

    \bar U_p &= \bar M_p + s\,\sigma'(U_p - \vartheta)\,\bar S_p
        + \beta z_{p+1}\,\frac{\partial\Omega}{\partial a}(U_p, L_p)\,\bar U_{p+1} \\
    \bar I_p &= \bar U_p, \qquad
    \bar L_{p-1} = \beta z_p \frac{\partial\Omega}{\partial b}(U_{p-1}, L_{p-1})\,\bar U_p \\
    \bar\beta &= \mathbb 1[0 \le \beta \le 1] \sum_p \bar U_p z_p C_p, \qquad
    \bar\vartheta = -\sum_p \big(s\,\sigma'(U_p - \vartheta)\bar S_p
        + R_{p-1}\bar U_p [\text{subtract}]\big) \\
    \bar\theta &= \frac{\pi}{2}\sum_p \beta z_p\,
        \frac{\partial\Omega}{\partial k}(U_{p-1}, L_{p-1})\,\bar U_p

where :math:`\bar M_p` is the output membrane's gradient at the positions where
window :math:`p` is the last to cover (map) or ``mem[:, p]`` (stack), and
:math:`\bar S_p` is the output spikes' gradient divided by the coverage
(the straight-through gradient of the recomposition).

The math exists twice: in-place tensor code on contiguous window buffers (the
eager path), and the same formulas as pure operations, which
:func:`set_fused_compile` has compiled with :func:`torch.compile` (one graph per
configuration and shape, built on first use; nothing compiles at import; the
default compiles on CUDA only) and which a ``torch.compile``'d model traces.
Hand-written Triton kernels are opt-in
(:func:`~snntorch_ms.functional.fused_triton.set_fused_triton`).

In reduced precision the fused path keeps the input's dtype (bf16 in, bf16
spikes and membrane out); the reference path returns float32 membranes there,
because snntorch's surrogates return float32 spikes.

Supported: projections ``"sincos"``, ``"nested"``, ``"mean"``, ``"none"``;
resets ``"subtract"``, ``"zero"``, ``"none"``; condense ``"or"``, ``"mean"``;
map and stack layouts (and no windows); with or without ``lateral``; scalar or
per-channel ``beta``, ``threshold``, ``theta``, learnable or not; a constant
``graded_spikes_factor``; the surrogates listed in :func:`recognise_surrogate`.
Anything else (a callable projection, another surrogate, ``state_quant``,
``inhibition``, ``reset_delay=False``, a learnable ``graded_spikes_factor``)
runs the reference path (see :meth:`~snntorch_ms.ProjLeaky` ``fused=``).
"""

from __future__ import annotations

import math
import os
import types
import warnings
from typing import Callable, NamedTuple, Optional, Tuple

import torch

from . import fused_triton
from ._fused_common import HALF_PI as _HALF_PI
from ._fused_common import out_dtype as _out_dtype
from ._fused_common import proj_scale as _proj_scale

__all__ = [
    "FusedConfig",
    "FusedWindowScan",
    "fused_window_scan",
    "fused_unsupported",
    "recognise_surrogate",
    "surrogate_derivative",
    "set_fused_compile",
    "fused_compile_enabled",
]

_PROJECTIONS = ("sincos", "nested", "mean", "none")
_RESETS = ("subtract", "zero", "none")


# --------------------------------------------------------------------------- #
# surrogates
# --------------------------------------------------------------------------- #


def _surrogate_codes():
    """The code objects of the closures that the known surrogate factories return."""
    from snntorch import surrogate as sg

    from .surrogate import rectangular

    codes = {
        sg.atan().__code__: "atan",
        sg.fast_sigmoid().__code__: "fast_sigmoid",
        sg.sigmoid().__code__: "sigmoid",
        sg.triangular().__code__: "triangular",
        sg.straight_through_estimator().__code__: "straight_through_estimator",
        rectangular().__code__: "rectangular",
    }
    return codes


_CODES = None
_PARAM_NAME = {
    "atan": "alpha",
    "fast_sigmoid": "slope",
    "sigmoid": "slope",
    "triangular": "threshold",
    "rectangular": "width",
}


# traced by torch.compile as a constant: the closure inspection stays out of the graph
@torch.compiler.assume_constant_result
def recognise_surrogate(spike_grad: Callable) -> Optional[Tuple[str, float]]:
    r"""Recognise a surrogate built by a known factory and read its parameter.

    Known: :func:`snntorch.surrogate.atan` (``alpha``),
    :func:`~snntorch.surrogate.fast_sigmoid` and :func:`~snntorch.surrogate.sigmoid`
    (``slope``), :func:`~snntorch.surrogate.triangular` (``threshold``),
    :func:`~snntorch.surrogate.straight_through_estimator`,
    :func:`snntorch_ms.surrogate.rectangular` (``width``) and snntorch's
    ``surrogate_disable=True`` bypass (no gradient). The closure is recognised by
    its code object and the parameter read from its cell, so a surrogate built
    with another parameter value is recognised too. Returns ``(kind, param)``, or
    ``None`` for anything else. The derivatives are in
    :func:`surrogate_derivative`, e.g. for ``atan``

    .. math::

        \sigma'(x) = \frac{\alpha / 2}{1 + (\pi \alpha x / 2)^2}

    Example::

        >>> from snntorch import surrogate
        >>> recognise_surrogate(surrogate.atan(alpha=3.0))
        ('atan', 3.0)
        >>> recognise_surrogate(lambda x: (x > 0).float()) is None
        True
    """
    global _CODES
    from snntorch._neurons.neurons import SpikingNeuron

    if spike_grad is SpikingNeuron._surrogate_bypass:
        return ("bypass", 0.0)
    code = getattr(spike_grad, "__code__", None)
    if code is None:
        return None
    if _CODES is None:
        _CODES = _surrogate_codes()
    kind = _CODES.get(code)
    if kind is None:
        return None
    if kind == "straight_through_estimator":
        return (kind, 0.0)
    name = _PARAM_NAME[kind]
    cells = dict(zip(code.co_freevars, spike_grad.__closure__ or ()))
    try:
        value = cells[name].cell_contents
    except (KeyError, ValueError):
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return (kind, float(value))


def surrogate_derivative(x: torch.Tensor, spec: Tuple[str, float]) -> torch.Tensor:
    r"""The derivative :math:`\sigma'(x)` of a recognised surrogate at
    :math:`x = U - \vartheta` (the same formulas as the surrogates' backward).

    .. math::

        \text{atan: } \frac{\alpha/2}{1 + (\pi\alpha x/2)^2}, \quad
        \text{fast\_sigmoid: } \frac{1}{(k|x| + 1)^2}, \quad
        \text{sigmoid: } k\,\varsigma(kx)\,(1 - \varsigma(kx)), \\
        \text{triangular: } \vartheta_t\,(1 - 2\,\mathbb 1[x \ge 0]), \quad
        \text{STE: } 1, \quad
        \text{rectangular: } \tfrac{1}{a}\mathbb 1[|x| < a/2], \quad
        \text{bypass: } 0

    The sigmoid is evaluated in a stable form: where snntorch's own formula
    overflows to ``nan`` (:math:`kx \lesssim -88` in float32), this gives 0.

    Example::

        >>> surrogate_derivative(torch.tensor([0.0, 1.0]), ("atan", 2.0))
        tensor([1.0000, 0.0920])
    """
    kind, a = spec
    if kind == "atan":
        t = x * (math.pi / 2 * a)
        return (a / 2) / (1 + t * t)
    if kind == "fast_sigmoid":
        d = x.abs() * a + 1.0
        return 1.0 / (d * d)
    if kind == "sigmoid":
        s = torch.sigmoid(x * a)
        return a * s * (1 - s)
    if kind == "triangular":
        return torch.where(x >= 0, -a, a).to(x.dtype)
    if kind == "straight_through_estimator":
        return torch.ones_like(x)
    if kind == "rectangular":
        return (x.abs() < a / 2).to(x.dtype) / a
    if kind == "bypass":
        return torch.zeros_like(x)
    raise ValueError(f"unknown surrogate kind {kind!r}")


@torch.compiler.assume_constant_result
def fused_unsupported(*, projection, spike_grad, reset_mechanism="subtract", condense="or",
                      state_quant=False, inhibition=False, reset_delay=True,
                      graded_spikes_factor=None) -> Optional[str]:
    r"""Why the fused path cannot run these neuron options: ``None`` when it can,
    else the name of the first option it does not cover (a callable
    ``projection``, an unrecognised ``spike_grad``, ``state_quant``,
    ``inhibition``, ``reset_delay=False``, a learnable ``graded_spikes_factor``).

    .. math::

        \text{supported} \iff \Omega \in \{\text{sincos}, \text{nested},
        \text{mean}, \text{none}\} \wedge \sigma \in \text{known} \wedge \dots

    Example::

        >>> from snntorch import surrogate
        >>> fused_unsupported(projection="sincos", spike_grad=surrogate.atan()) is None
        True
        >>> fused_unsupported(projection=lambda a, b: a, spike_grad=surrogate.atan())
        'projection (callable)'
    """
    if callable(projection) or projection not in _PROJECTIONS:
        return "projection (callable)"
    if recognise_surrogate(spike_grad) is None:
        return f"spike_grad ({getattr(spike_grad, '__qualname__', type(spike_grad).__name__)})"
    if reset_mechanism not in _RESETS:
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


# --------------------------------------------------------------------------- #
# configuration and the math
# --------------------------------------------------------------------------- #


class FusedConfig(NamedTuple):
    r"""The static options of one fused scan (hashable: a compile cache key).

    ``layout`` is ``"map"`` (``boxes`` and ``size`` give the windows of the
    ``H x W`` map, ``condense`` the spike recomposition) or ``"stack"``
    (``[B, g, ...]``, nothing recomposed). ``surrogate`` is a
    :func:`recognise_surrogate` pair.

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
        from .windows import window_boxes

        boxes = tuple(tuple(box) for box in window_boxes(height, width, windows, groups))
        # the windows cover the map: they partition it iff their areas add up to H * W
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


def _window(cfg: FusedConfig, t: torch.Tensor, p: int) -> torch.Tensor:
    if cfg.layout == "map":
        top, bottom, left, right = cfg.boxes[p]
        return t[..., top:bottom, left:right]
    return t[:, p]


def _groups(cfg: FusedConfig, x: torch.Tensor) -> int:
    return len(cfg.boxes) if cfg.layout == "map" else x.shape[1]


def _disjoint(cfg: FusedConfig) -> bool:
    return cfg.layout == "stack" or cfg.partition


def _into(out, fn, *args):
    """``fn(*args, out=out)``; while torch.compile traces (which does not take
    ``out=`` everywhere), ``out.copy_(fn(*args))``."""
    if torch.compiler.is_compiling():
        return out.copy_(fn(*args))
    return fn(*args, out=out)


def _update_into(cfg, dst, a, cur, lat, beta_eff, thr, k, rbuf):
    """One window sub-step written into ``dst`` (which aliases none of the inputs):
    U_p = beta z C_p + I_p - thr R_{p-1}, with the reference's rounding."""
    name = cfg.projection
    if name == "sincos" or (name == "nested" and lat is None):
        _into(dst, torch.mul, a, k)
        dst.sin_()
        if lat is not None:
            dst.mul_(torch.cos(lat * k))
    elif name == "nested":
        _into(dst, torch.mul, lat, k)
        dst.mul_(torch.cos(k * a))
        dst.sin_()
    elif name == "mean" and lat is not None:
        _into(dst, torch.add, a, lat)
        dst.div_(2)
    else:
        dst.copy_(a)
    dst.mul_(beta_eff)
    if cfg.reset == "zero":
        _into(rbuf, torch.le, a, thr)
        dst.mul_(rbuf)
    dst.add_(cur)
    if cfg.reset == "subtract":
        _into(rbuf, torch.gt, a, thr)
        dst.addcmul_(rbuf, thr, value=-1)
    return dst


def _forward_math(cfg: FusedConfig, x, carried, lat, beta, thr, theta, gsf):
    """Spikes and membranes of one fused time step (no autograd)."""
    groups = _groups(cfg, x)
    beta_eff = beta.clamp(0, 1) * _proj_scale(cfg.projection)
    k = theta * _HALF_PI
    dtype = _out_dtype(x, carried, lat, beta, thr, theta)
    disjoint = _disjoint(cfg)
    kw = dict(dtype=dtype, device=x.device)
    wshape = _window(cfg, x, 0).shape
    mem = torch.empty(x.shape, **kw)
    spk = torch.empty(x.shape, **kw) if disjoint else torch.zeros(x.shape, **kw)
    rbuf = torch.empty(wshape, **kw) if cfg.reset != "none" else None
    # the chain of each window runs on contiguous buffers (strided window views are
    # several times slower per op on the CPU); outputs are written once per window
    u = carried.contiguous()
    for p in range(groups):
        b = _window(cfg, lat, p - 1) if (lat is not None and p > 0) else None
        dst = torch.empty(wshape, **kw)
        _update_into(cfg, dst, u, _window(cfg, x, p), b, beta_eff, thr, k, rbuf)
        # later windows overwrite: the membrane of the last covering window stays
        _window(cfg, mem, p).copy_(dst)
        if disjoint:
            _into(_window(cfg, spk, p), torch.gt, dst, thr)
        else:
            _window(cfg, spk, p).add_(torch.gt(dst, thr))
        u = dst
    if not disjoint and cfg.condense == "or":
        _into(spk, torch.gt, spk, 0)
    spk.mul_(gsf)
    if not disjoint and cfg.condense == "mean":
        spk.div_(_coverage(cfg, x.device, dtype))
    return spk, mem


_COVERAGE = {}


def _coverage(cfg, device, dtype):
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


def _last_cover(cfg: FusedConfig, p: int):
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


def _surrogate_into(out, gs, factor, u, thr, spec, tmp):
    """out = gs * factor * sigma'(u - thr) / pre, with ``pre`` =
    :func:`_surrogate_prefactor` already folded into ``factor``."""
    kind, a = spec
    _into(tmp, torch.sub, u, thr)
    if kind == "atan":
        tmp.mul_(math.pi / 2 * a)
        tmp.mul_(tmp)
        tmp.add_(1)
        tmp.div_(factor)
        return _into(out, torch.div, gs, tmp)
    if kind == "fast_sigmoid":
        tmp.abs_()
        tmp.mul_(a)
        tmp.add_(1.0)
        tmp.mul_(tmp)
        tmp.div_(factor)
        return _into(out, torch.div, gs, tmp)
    if kind == "straight_through_estimator":
        return _into(out, torch.mul, gs, factor)
    _into(out, torch.mul, surrogate_derivative(tmp, spec), factor)
    return out.mul_(gs)


def _surrogate_prefactor(spec) -> float:
    return spec[1] / 2 if spec[0] == "atan" else 1.0


def _sum_to(t, like: torch.Tensor):
    return t.sum_to_size(like.shape) if like.dim() else t.sum()


def _acc(total, term):
    return term if total is None else total + term


def _projection_terms(name, a, b, k):
    """Pure (out-of-place) projection c = Omega / scale and its partials.

    Returns (c, da, db, dk) = (c, dc/da, dc/db, dc/dk); a partial is None where
    it is the identity (da) or absent (db, dk).  Shared by the eager and the
    torch.compile backward, so it must stay free of in-place ops.
    """
    if b is None and name in ("sincos", "nested"):
        ka = k * a
        sa, ca = torch.sin(ka), torch.cos(ka)
        return sa, k * ca, None, a * ca
    if name == "sincos":
        ka, kb = k * a, k * b
        sa, ca, sb, cb = torch.sin(ka), torch.cos(ka), torch.sin(kb), torch.cos(kb)
        return sa * cb, k * ca * cb, -(k * sa * sb), a * ca * cb - b * sa * sb
    if name == "nested":
        ka = k * a
        sa, ca = torch.sin(ka), torch.cos(ka)
        z = k * b * ca
        cz = torch.cos(z)
        return torch.sin(z), -(cz * k * k * b * sa), cz * k * ca, cz * (b * ca - k * b * a * sa)
    if name == "mean" and b is not None:
        return (a + b) / 2, 0.5, 0.5, None
    return a, None, None, None


def _backward_math(cfg: FusedConfig, needs, x, carried, lat, beta, thr, theta, gsf, g_spk, g_mem,
                   mem=None):
    """Gradients of (x, carried, lat, beta, thr, theta) given the output gradients.
    ``mem``: the forward's membrane output, which holds every U_p when the windows
    are disjoint (then ``x`` is not needed); else ``x`` and a recomputation."""
    need_x, need_carried, need_lat, need_beta, need_thr, need_theta = needs
    ref = x if mem is None else mem
    groups = _groups(cfg, ref)
    name = cfg.projection
    scale = _proj_scale(name)
    beta_eff = beta.clamp(0, 1) * scale
    k = theta * _HALF_PI
    dtype = _out_dtype(x, carried, lat, beta, thr, theta) if mem is None else mem.dtype
    disjoint = _disjoint(cfg)
    kw = dict(dtype=dtype, device=ref.device)
    wshape = _window(cfg, ref, 0).shape
    rbuf = torch.empty(wshape, **kw)
    tmp = torch.empty(wshape, **kw)

    if mem is not None:
        # the window membranes U_1 .. U_g are the forward's output
        us = [carried.contiguous()] + [_window(cfg, mem, p).contiguous() for p in range(groups)]
    else:
        # recompute the window membranes U_0 .. U_g
        us = [carried.contiguous()] + [torch.empty(wshape, **kw) for _ in range(groups)]
        for p in range(groups):
            b = _window(cfg, lat, p - 1) if (lat is not None and p > 0) else None
            _update_into(cfg, us[p + 1], us[p], _window(cfg, x, p), b, beta_eff, thr, k, rbuf)

    gs = None
    if g_spk is not None:
        # straight-through recomposition: dS_map/dS_p = 1/n, then the magnitude s
        gs = g_spk
        gs_factor = gsf * _surrogate_prefactor(cfg.surrogate)
        if not disjoint:
            gs_factor = gs_factor / _coverage(cfg, ref.device, dtype)
    g_x = None
    if need_x:
        g_x = torch.empty(ref.shape, **kw) if disjoint else torch.zeros(ref.shape, **kw)
    g_lat = None
    if need_lat and lat is not None and name != "none":
        g_lat = torch.zeros(lat.shape, **kw)
    g_beta = g_thr = g_k = None
    k_beta = beta_eff * k  # d(beta*2 sin(ka))/da = beta*2*k cos(ka)

    carry = None  # gradient reaching U_{p} from window p + 1
    for p in range(groups - 1, -1, -1):
        u_p, a = us[p + 1], us[p]
        gu = torch.empty(wshape, **kw)
        if gs is not None:
            factor = gs_factor if (disjoint or gs_factor.dim() < 2) else _window(cfg, gs_factor, p)
            _surrogate_into(gu, _window(cfg, gs, p), factor, u_p, thr, cfg.surrogate, tmp)
            if need_thr:
                g_thr = _acc(g_thr, -_sum_to(gu, thr))
        else:
            gu.zero_()
        if g_mem is not None:
            gm = _window(cfg, g_mem, p)
            keep = None if disjoint else _last_cover(cfg, p)
            if keep is None:
                gu.add_(gm)
            else:
                for rs, cs in keep:
                    gu[..., rs, cs] += gm[..., rs, cs]
        if carry is not None:
            gu.add_(carry)
        if g_x is not None:
            if disjoint:
                _window(cfg, g_x, p).copy_(gu)
            else:
                _window(cfg, g_x, p).add_(gu)
        # back through U_p = beta z C_p + I_p - thr R_{p-1}
        if need_thr and cfg.reset == "subtract":
            _into(rbuf, torch.gt, a, thr)
            g_thr = _acc(g_thr, -_sum_to(gu * rbuf, thr))
        b = _window(cfg, lat, p - 1) if (lat is not None and p > 0) else None
        need_up = p > 0 or need_carried
        need_b = b is not None and g_lat is not None
        if not (need_up or need_beta or need_theta or need_b):
            carry = None
            continue
        if cfg.reset == "zero":
            _into(rbuf, torch.le, a, thr)
            guz = gu * rbuf  # gu * z_p
        else:
            guz = gu
        plain = b is None and name in ("sincos", "nested")
        if plain and not (need_beta or need_theta):
            # the common case, in place: carry = beta 2k cos(k a) * guz
            _into(tmp, torch.mul, a, k)
            tmp.cos_()
            carry = tmp.mul(k_beta)
            carry.mul_(guz)
            continue
        if name == "sincos" and b is not None and not (need_beta or need_theta):
            # with a lateral membrane, in place: carry = beta 2k cos(ka) cos(kb) guz,
            # lateral gradient = -beta 2k sin(ka) sin(kb) guz
            gck = guz * k_beta
            _into(tmp, torch.mul, a, k)
            sin_a = torch.sin(tmp)
            cos_a = tmp.cos_()
            kb = b * k
            sin_a.mul_(torch.sin(kb))
            cos_a.mul_(kb.cos_())
            if need_b:
                _window(cfg, g_lat, p - 1).addcmul_(sin_a, gck, value=-1)
            carry = cos_a.mul_(gck) if need_up else None
            tmp = torch.empty(wshape, **kw)  # tmp now holds the carry
            continue
        gc = guz * beta_eff  # dL/dc, c = Omega / scale
        c, da, db, dk = _projection_terms(name, a, b, k)
        if need_beta:
            g_beta = _acc(g_beta, _sum_to(guz * c, beta) * scale)
        if need_theta and dk is not None:
            g_k = _acc(g_k, _sum_to(gc * dk, theta))
        if need_b and db is not None:
            _window(cfg, g_lat, p - 1).add_(gc * db)
        carry = (gc if da is None else gc * da) if need_up else None

    g_carried = carry if need_carried else None
    if g_beta is not None:
        g_beta = g_beta * ((beta >= 0) & (beta <= 1))
    g_theta = g_k * _HALF_PI if g_k is not None else None
    if need_theta and g_theta is None and name in ("sincos", "nested"):
        g_theta = torch.zeros_like(theta)
    return g_x, g_carried, g_lat, g_beta, g_thr, g_theta


# --------------------------------------------------------------------------- #
# the same math in functional form, for torch.compile (inductor fuses a chain of
# pure operations into a few vectorised kernels; in-place writes into window views
# defeat it)
# --------------------------------------------------------------------------- #


def _step_functional(cfg, a, cur, lat, beta_eff, thr, k):
    name = cfg.projection
    if name == "sincos" or (name == "nested" and lat is None):
        c = torch.sin(a * k)
        if lat is not None:
            c = c * torch.cos(lat * k)
    elif name == "nested":
        c = torch.sin(lat * k * torch.cos(k * a))
    elif name == "mean" and lat is not None:
        c = (a + lat) / 2
    else:
        c = a
    u = c * beta_eff
    if cfg.reset == "zero":
        u = u * (a <= thr).to(u.dtype)
    u = u + cur
    if cfg.reset == "subtract":
        u = u - (a > thr).to(u.dtype) * thr
    return u


def _grid(cfg, wins):
    """Map from per-window tensors of a partition (windows in row-major order)."""
    rows = []
    for top in sorted({box[0] for box in cfg.boxes}):
        row = [w for w, box in zip(wins, cfg.boxes) if box[0] == top]
        rows.append(torch.cat(row, -1) if len(row) > 1 else row[0])
    return torch.cat(rows, -2) if len(rows) > 1 else rows[0]


def _pad(cfg, w, p):
    top, bottom, left, right = cfg.boxes[p]
    height, width = cfg.size
    return torch.nn.functional.pad(w, (left, width - right, top, height - bottom))


def _compose_sum(cfg, wins, like):
    """Stack, grid or sum of the placed windows (``None`` windows are zeros)."""
    if cfg.layout == "stack" or cfg.partition:
        wins = [torch.zeros_like(like) if w is None else w for w in wins]
        return torch.stack(wins, 1) if cfg.layout == "stack" else _grid(cfg, wins)
    placed = [_pad(cfg, w, p) for p, w in enumerate(wins) if w is not None]
    return sum(placed[1:], placed[0])


def _cover_mask(cfg, p, dtype, device):
    """[h, w] mask of window p's positions that no later window covers."""
    top, bottom, left, right = cfg.boxes[p]
    keep = _last_cover(cfg, p)
    if keep is None:
        return torch.ones(bottom - top, right - left, dtype=dtype, device=device)
    mask = torch.zeros(bottom - top, right - left, dtype=dtype, device=device)
    for rs, cs in keep:
        mask[rs, cs] = 1
    return mask


def _forward_functional(cfg: FusedConfig, x, carried, lat, beta, thr, theta, gsf):
    """:func:`_forward_math` without in-place writes."""
    groups = _groups(cfg, x)
    beta_eff = beta.clamp(0, 1) * _proj_scale(cfg.projection)
    k = theta * _HALF_PI
    u, us, fired = carried, [], []
    for p in range(groups):
        b = _window(cfg, lat, p - 1) if (lat is not None and p > 0) else None
        u = _step_functional(cfg, u, _window(cfg, x, p), b, beta_eff, thr, k)
        us.append(u)
        fired.append((u > thr).to(u.dtype))
    if cfg.layout == "stack":
        return torch.stack(fired, 1) * gsf, torch.stack(us, 1)
    if cfg.partition:
        return _grid(cfg, fired) * gsf, _grid(cfg, us)
    mem = _pad(cfg, us[0], 0)
    height, width = cfg.size
    for p in range(1, groups):
        top, bottom, left, right = cfg.boxes[p]
        rows = torch.arange(height, device=x.device).view(-1, 1)
        cols = torch.arange(width, device=x.device).view(1, -1)
        inside = (rows >= top) & (rows < bottom) & (cols >= left) & (cols < right)
        mem = torch.where(inside, _pad(cfg, us[p], p), mem)
    count = _compose_sum(cfg, fired, fired[0])
    if cfg.condense == "or":
        return (count > 0).to(count.dtype) * gsf, mem
    return count * gsf / _coverage(cfg, x.device, count.dtype), mem


def _backward_functional(cfg: FusedConfig, needs, x, carried, lat, beta, thr, theta, gsf,
                         g_spk, g_mem, mem=None):
    """:func:`_backward_math` without in-place writes."""
    need_x, need_carried, need_lat, need_beta, need_thr, need_theta = needs
    ref = x if mem is None else mem
    groups = _groups(cfg, ref)
    name = cfg.projection
    scale = _proj_scale(name)
    beta_eff = beta.clamp(0, 1) * scale
    k = theta * _HALF_PI
    disjoint = _disjoint(cfg)
    us = [carried]
    for p in range(groups):
        if mem is not None:
            us.append(_window(cfg, mem, p))
            continue
        b = _window(cfg, lat, p - 1) if (lat is not None and p > 0) else None
        us.append(_step_functional(cfg, us[p], _window(cfg, x, p), b, beta_eff, thr, k))
    gs_factor = None
    if g_spk is not None:
        gs_factor = gsf
        if not disjoint:
            gs_factor = gsf / _coverage(cfg, ref.device, us[-1].dtype)
    g_xs, g_lats = [None] * groups, [None] * groups
    g_beta = g_thr = g_k = None
    carry = None
    for p in range(groups - 1, -1, -1):
        u_p, a = us[p + 1], us[p]
        gu = carry
        if g_spk is not None:
            factor = gs_factor if (disjoint or gs_factor.dim() < 2) else _window(cfg, gs_factor, p)
            term = _window(cfg, g_spk, p) * factor * surrogate_derivative(u_p - thr, cfg.surrogate)
            if need_thr:
                g_thr = _acc(g_thr, -_sum_to(term, thr))
            gu = _acc(gu, term)
        if g_mem is not None:
            gm = _window(cfg, g_mem, p)
            if not disjoint and _last_cover(cfg, p) is not None:
                gm = gm * _cover_mask(cfg, p, gm.dtype, gm.device)
            gu = _acc(gu, gm)
        if gu is None:
            gu = torch.zeros_like(u_p)
        g_xs[p] = gu
        if need_thr and cfg.reset == "subtract":
            g_thr = _acc(g_thr, -_sum_to(gu * (a > thr).to(gu.dtype), thr))
        b = _window(cfg, lat, p - 1) if (lat is not None and p > 0) else None
        need_up = p > 0 or need_carried
        guz = gu * (a <= thr).to(gu.dtype) if cfg.reset == "zero" else gu
        gc = guz * beta_eff
        c, da, db, dk = _projection_terms(name, a, b, k)
        if need_beta:
            g_beta = _acc(g_beta, _sum_to(guz * c, beta) * scale)
        if need_theta and dk is not None:
            g_k = _acc(g_k, _sum_to(gc * dk, theta))
        if b is not None and db is not None:
            g_lats[p - 1] = gc * db
        carry = (gc if da is None else gc * da) if need_up else None

    g_x = _compose_sum(cfg, g_xs, g_xs[0]) if need_x else None
    g_lat = None
    if need_lat and lat is not None and name != "none":
        g_lat = _compose_sum(cfg, g_lats, g_xs[0]) if any(g is not None for g in g_lats) \
            else torch.zeros_like(lat)
    g_carried = carry if need_carried else None
    if g_beta is not None:
        g_beta = g_beta * ((beta >= 0) & (beta <= 1))
    g_theta = g_k * _HALF_PI if g_k is not None else None
    if need_theta and g_theta is None and name in ("sincos", "nested"):
        g_theta = torch.zeros_like(theta)
    return g_x, g_carried, g_lat, g_beta, g_thr, g_theta


_MATH = {"fwd": (_forward_math, _forward_functional), "bwd": (_backward_math, _backward_functional)}


# --------------------------------------------------------------------------- #
# compile control
# --------------------------------------------------------------------------- #

_COMPILE = {"enabled": None, "backend": "inductor"}
_COMPILED = {}
_COMPILE_FAILED = set()


def set_fused_compile(enabled: Optional[bool] = None, backend: str = "inductor") -> None:
    r"""Choose whether the fused scan's forward and backward math are compiled
    with :func:`torch.compile` (``backend``): ``True``, ``False``, or ``None``
    (the default: compiled on CUDA, eager on the CPU, where a cold inductor
    compile takes minutes per graph). The environment variable
    ``SNNTORCH_MS_FUSED_COMPILE=0/1`` sets the initial value. A graph is built
    per configuration and input shape on first use; when compiling fails the
    eager math is used, with one warning.

    .. math::

        \text{fwd}, \text{bwd} \leftarrow \text{torch.compile}(\text{fwd}),
        \text{torch.compile}(\text{bwd})

    Example::

        >>> set_fused_compile(False)
        >>> fused_compile_enabled(torch.device("cuda"))
        False
        >>> set_fused_compile(None)
    """
    _COMPILE["enabled"] = enabled
    _COMPILE["backend"] = backend


def fused_compile_enabled(device) -> bool:
    r"""Whether the fused math runs compiled for tensors on ``device``
    (see :func:`set_fused_compile`).

    .. math::

        \text{compiled} = \begin{cases} \text{setting} & \text{set} \\
        \text{device is CUDA} & \text{otherwise}\end{cases}

    Example::

        >>> isinstance(fused_compile_enabled(torch.device("cpu")), bool)
        True
    """
    enabled = _COMPILE["enabled"]
    if enabled is None:
        env = os.environ.get("SNNTORCH_MS_FUSED_COMPILE")
        if env is not None:
            return env.strip().lower() not in ("0", "false", "no", "")
        return torch.device(device).type == "cuda"
    return bool(enabled)


def _fresh_copy(fn):
    # a function with its own code object: torch.compile keeps its cache (and its
    # recompile limit) per code object, and every configuration/shape gets one
    return types.FunctionType(fn.__code__.replace(), fn.__globals__, fn.__name__,
                              fn.__defaults__, fn.__closure__)


def _run(kind, cfg, key_extra, device, *args):
    """Run the forward or backward math: traced functional math inside a
    torch.compile'd model, a compiled copy of it when enabled, else eager math."""
    eager_fn, functional_fn = _MATH[kind]
    if torch.compiler.is_compiling():
        return functional_fn(cfg, *args)
    if not fused_compile_enabled(device):
        return eager_fn(cfg, *args)
    key = (kind, cfg, key_extra, _COMPILE["backend"])
    if key in _COMPILE_FAILED:
        return eager_fn(cfg, *args)
    compiled = _COMPILED.get(key)
    if compiled is None:
        # dynamic=None: static first; a new batch size recompiles once with a
        # dynamic batch dimension (the key leaves the batch size out)
        compiled = torch.compile(_fresh_copy(functional_fn), backend=_COMPILE["backend"],
                                 dynamic=None, fullgraph=True)
        _COMPILED[key] = compiled
    try:
        return compiled(cfg, *args)
    except Exception as err:  # a missing compiler, an unsupported backend, ...
        _COMPILE_FAILED.add(key)
        warnings.warn(f"snntorch_ms fused scan: torch.compile failed ({type(err).__name__}: "
                      f"{err}); using the eager math", RuntimeWarning, stacklevel=3)
        return eager_fn(cfg, *args)


def _triton_ok(cfg, x, lateral, *params) -> bool:
    return fused_triton.fused_triton_enabled(x) and fused_triton.supported(cfg, x, lateral, *params)


def _sig(*tensors):
    # compile-cache key of the tensor arguments, batch size left out
    return tuple(None if t is None else (tuple(t.shape[1:]) if t.dim() > 1 else t.dim(),
                                         t.dtype, t.device.type) for t in tensors)


# --------------------------------------------------------------------------- #
# the autograd function
# --------------------------------------------------------------------------- #


class FusedWindowScan(torch.autograd.Function):
    r"""One fused ProjLeaky time step with a hand-written backward.

    ``forward(ctx, cfg, x, carried, lateral, beta, threshold, theta, gsf)``
    returns ``(spk, mem)`` in the input's layout (map: recomposed spikes with
    ``cfg.condense`` and the last-window membrane map; stack: the stacks).
    ``carried`` is the membrane carried into window 1 ``[B, C, h, w]``;
    ``lateral`` is ``None`` or the input's shape; ``beta``, ``threshold``,
    ``theta`` and ``gsf`` broadcast against one window. Only the inputs are
    saved; the window membranes are recomputed in backward (see the module
    docstring for the recursion):

    .. math::

        \bar U_p = \bar M_p + s\,\sigma'(U_p - \vartheta)\,\bar S_p
            + \beta z_{p+1}\,\partial_a\Omega(U_p, L_p)\,\bar U_{p+1}

    Example::

        >>> cfg = FusedConfig.for_map(4, 4, "quad", 4, "sincos", "subtract", "or", ("atan", 2.0))
        >>> x = torch.rand(1, 2, 4, 4, requires_grad=True)
        >>> one = torch.tensor(1.0)
        >>> spk, mem = FusedWindowScan.apply(cfg, x, torch.zeros(1, 2, 2, 2), None,
        ...                                  one * 0.5, one, one * 0.5, one)
        >>> (spk.sum() + mem.sum()).backward()
        >>> x.grad.shape
        torch.Size([1, 2, 4, 4])
    """

    @staticmethod
    def forward(ctx, cfg, x, carried, lateral, beta, threshold, theta, gsf):
        ctx.cfg = cfg
        ctx.set_materialize_grads(False)
        triton = _triton_ok(cfg, x, lateral, beta, threshold, theta, gsf)
        with torch.no_grad():
            if triton:
                spk, mem = fused_triton.triton_forward(cfg, x, carried, lateral, beta, threshold,
                                                       theta, gsf)
            else:
                spk, mem = _run("fwd", cfg, _sig(x, carried, lateral, beta, threshold, theta),
                                x.device, x, carried, lateral, beta, threshold, theta, gsf)
        # disjoint windows: the membrane output holds every U_p, so backward needs
        # neither the input nor a recomputation; else keep the input and recompute
        ctx.saved_mem = _disjoint(cfg) and not triton
        ctx.x_dtype = x.dtype
        ctx.save_for_backward(mem if ctx.saved_mem else x, carried, lateral, beta, threshold,
                              theta, gsf)
        return spk, mem

    @staticmethod
    def backward(ctx, g_spk, g_mem):
        saved, carried, lateral, beta, threshold, theta, gsf = ctx.saved_tensors
        x, mem = (None, saved) if ctx.saved_mem else (saved, None)
        needs = tuple(bool(n) for n in ctx.needs_input_grad[1:7])
        if g_spk is None and g_mem is None or not any(needs):
            return (None,) * 8
        cfg = ctx.cfg
        with torch.no_grad():
            if mem is None and _triton_ok(cfg, x, lateral, beta, threshold, theta, gsf):
                grads = fused_triton.triton_backward(cfg, needs, x, carried, lateral, beta,
                                                     threshold, theta, gsf, g_spk, g_mem)
            else:
                grads = _run("bwd", cfg,
                             (needs, g_spk is None, g_mem is None, mem is None,
                              _sig(saved, carried, lateral, beta, threshold, theta)),
                             saved.device, needs, x, carried, lateral, beta, threshold, theta,
                             gsf, g_spk, g_mem, mem)
        out = [None]
        for need, g, t in zip(needs, grads, (saved, carried, lateral, beta, threshold, theta)):
            if not need or g is None:
                out.append(None)
            else:
                dtype = ctx.x_dtype if t is saved else t.dtype
                out.append(g.to(dtype).reshape(t.shape))
        out.append(None)
        return tuple(out)


def fused_window_scan(cfg: FusedConfig, x, carried, lateral, beta, threshold, theta, gsf):
    r"""Functional entry point of :class:`FusedWindowScan`: one fused time step.

    Map layout: ``x`` ``[B, C, H, W]`` is cut into ``cfg.boxes``, scanned and
    recomposed; stack layout: ``x`` ``[B, g, ...]`` is scanned as it is.
    Scalars are promoted to tensors.

    .. math::

        (S, U) = \mathrm{recompose}\big(\mathrm{scan}_{p=1..g}(I_p, U_{p-1}, L_{p-1})\big)

    Example::

        >>> cfg = FusedConfig.for_stack("none", "subtract", ("atan", 2.0))
        >>> spk, mem = fused_window_scan(cfg, torch.ones(1, 2, 1), torch.zeros(1, 1), None,
        ...                              0.5, 1.5, 0.5, 1.0)
        >>> mem.flatten().tolist(), spk.flatten().tolist()
        ([1.0, 1.5], [0.0, 0.0])
    """
    ref = x
    beta, threshold, theta, gsf = (
        v if isinstance(v, torch.Tensor) else torch.tensor(v, dtype=ref.dtype, device=ref.device)
        for v in (beta, threshold, theta, gsf)
    )
    return FusedWindowScan.apply(cfg, x, carried, lateral, beta, threshold, theta, gsf)
