r"""The fused time step in eager tensor code that writes into preallocated window
buffers: the CPU engine (a cold :func:`torch.compile` of the pure form takes
minutes per graph on a CPU, and the pure form run eagerly allocates a fresh
tensor per operation; ``benchmarks/fused_engines.py`` measures both).

The option-specific formulas (projection, reset, surrogate and their partials)
are :mod:`snntorch_ms.functional.spec`'s. Two *fast paths* rewrite the commonest
case in place instead, because it dominates training time: the sine of the
sincos/nested projection in the forward, and the carried gradient of the
sincos projection with the atan surrogate in the backward. They compute the
spec's formula with the same operations in another memory order; the parity
tests run every option with and without them (``fast_paths=False``).
"""

from __future__ import annotations

import math

import torch

from .. import spec
from .config import (
    FusedConfig, acc, coverage, disjoint, groups, last_cover, out_dtype, sum_to, window,
)

__all__: list = []  # an engine: reached through FusedWindowScan and backend.run


def _into(out, fn, *args):
    """``fn(*args, out=out)``."""
    return fn(*args, out=out)


def _update_into(cfg, dst, a, cur, lat, beta_eff, thr, k, rbuf, fast_paths):
    """One window sub-step written into ``dst`` (which aliases none of the inputs)."""
    proj = cfg.proj_id
    sine = cfg.projection == "sincos" or (cfg.projection == "nested" and lat is None)
    if fast_paths and sine:
        # fast path: spec.project's sin(k a) [cos(k b)], computed in dst
        _into(dst, torch.mul, a, k)
        dst.sin_()
        if lat is not None:
            dst.mul_(torch.cos(lat * k))
    else:
        dst.copy_(spec.project(a, lat, k, proj, lat is not None))
    dst.mul_(beta_eff)
    # spec.membrane in place: "zero" multiplies by 1 - R, "subtract" subtracts R thr
    if cfg.reset == "zero":
        dst.mul_(_into(rbuf, torch.le, a, thr))
    dst.add_(cur)
    if cfg.reset == "subtract":
        dst.addcmul_(_into(rbuf, torch.gt, a, thr), thr, value=-1)
    return dst


def forward(cfg: FusedConfig, x, carried, lat, beta, thr, theta, gsf, fast_paths=True):
    """Spikes and membranes of one fused time step (no autograd)."""
    n = groups(cfg, x)
    beta_eff, k = cfg.coefficients(beta, theta)
    dtype = out_dtype(x, carried, lat, beta, thr, theta)
    kw = dict(dtype=dtype, device=x.device)
    wshape = window(cfg, x, 0).shape
    mem = torch.empty(x.shape, **kw)
    spk = torch.empty(x.shape, **kw) if disjoint(cfg) else torch.zeros(x.shape, **kw)
    rbuf = torch.empty(wshape, **kw) if cfg.reset != "none" else None
    # the chain of each window runs on contiguous buffers (strided window views are
    # several times slower per op on the CPU); outputs are written once per window
    u = carried.contiguous()
    for p in range(n):
        b = window(cfg, lat, p - 1) if (lat is not None and p > 0) else None
        dst = mem if cfg.layout == "single" else torch.empty(wshape, **kw)
        _update_into(cfg, dst, u, window(cfg, x, p), b, beta_eff, thr, k, rbuf, fast_paths)
        if dst is not mem:
            # later windows overwrite: the membrane of the last covering window stays
            window(cfg, mem, p).copy_(dst)
        if disjoint(cfg):
            _into(window(cfg, spk, p), torch.gt, dst, thr)
        else:
            window(cfg, spk, p).add_(torch.gt(dst, thr))
        u = dst
    if not disjoint(cfg) and cfg.condense == "or":
        _into(spk, torch.gt, spk, 0)
    spk.mul_(gsf)
    if not disjoint(cfg) and cfg.condense == "mean":
        spk.div_(coverage(cfg, x.device, dtype))
    return spk, mem


def _atan_grad_into(out, gs, factor, u, thr, alpha, tmp):
    """Fast path: ``out = gs * factor * spec.surrogate_grad(u - thr, alpha, atan)``,
    in place (``(alpha/2) / (1 + t^2)`` with ``alpha/2`` folded into ``factor``)."""
    _into(tmp, torch.sub, u, thr)
    tmp.mul_(math.pi / 2 * alpha)
    tmp.mul_(tmp)
    tmp.add_(1)
    tmp.div_(factor * (alpha / 2))
    return _into(out, torch.div, gs, tmp)


def _spike_grad_into(cfg, out, gs, factor, u, thr, tmp, fast_paths):
    kind, param = cfg.surrogate
    if fast_paths and kind == "atan":
        return _atan_grad_into(out, gs, factor, u, thr, param, tmp)
    d = spec.surrogate_grad(u - thr, param, spec.surrogate_id(kind))
    _into(out, torch.mul, d, factor)
    return out.mul_(gs)


def _window_membranes(cfg, x, carried, lat, mem, beta_eff, thr, k, kw, wshape, fast_paths):
    """U_0 .. U_g: the forward's output windows (disjoint windows) or recomputed."""
    n = groups(cfg, x if mem is None else mem)
    if mem is not None:
        return [carried.contiguous()] + [window(cfg, mem, p).contiguous() for p in range(n)]
    rbuf = torch.empty(wshape, **kw)
    us = [carried.contiguous()] + [torch.empty(wshape, **kw) for _ in range(n)]
    for p in range(n):
        b = window(cfg, lat, p - 1) if (lat is not None and p > 0) else None
        _update_into(cfg, us[p + 1], us[p], window(cfg, x, p), b, beta_eff, thr, k, rbuf,
                     fast_paths)
    return us


def _membrane_grad(cfg, p, g_spk, gs_factor, g_mem, carry, u_p, thr, tmp, need_thr,
                   fast_paths):
    """``(dL/dU_p, the spikes' part of dL/dthr or None)`` of window ``p``: through its
    spikes (the surrogate), from the output membrane where window ``p`` is the last
    to cover a position, and carried back from window ``p + 1``."""
    gu = torch.empty(tmp.shape, dtype=tmp.dtype, device=tmp.device)
    g_thr = None
    if g_spk is not None:
        factor = gs_factor if (disjoint(cfg) or gs_factor.dim() < 2) \
            else window(cfg, gs_factor, p)
        _spike_grad_into(cfg, gu, window(cfg, g_spk, p), factor, u_p, thr, tmp, fast_paths)
        if need_thr:
            g_thr = -sum_to(gu, thr)
    else:
        gu.zero_()
    if g_mem is not None:
        gm = window(cfg, g_mem, p)
        keep = None if disjoint(cfg) else last_cover(cfg, p)
        if keep is None:
            gu.add_(gm)
        else:
            for rs, cs in keep:
                gu[..., rs, cs] += gm[..., rs, cs]
    if carry is not None:
        gu.add_(carry)
    return gu, g_thr


def _sine_carry(a, k, k_beta, guz, tmp):
    """Fast path without a lateral membrane: ``carry = beta 2k cos(k a) * guz``
    (spec's dc/da), in place in ``tmp``'s copy."""
    _into(tmp, torch.mul, a, k)
    tmp.cos_()
    carry = tmp.mul(k_beta)
    carry.mul_(guz)
    return carry


def _sincos_lateral_carry(a, b, k, k_beta, guz, tmp, g_lat_p, need_up):
    """Fast path of sincos with a lateral membrane, in place (spec's dc/da, dc/db):
    ``carry = beta 2k cos(ka) cos(kb) guz`` (returned, in ``tmp``'s buffer; None
    unless ``need_up``), the lateral's ``-beta 2k sin(ka) sin(kb) guz`` added into
    ``g_lat_p`` (when given)."""
    gck = guz * k_beta
    _into(tmp, torch.mul, a, k)
    sin_a = torch.sin(tmp)
    cos_a = tmp.cos_()
    kb = b * k
    sin_a.mul_(torch.sin(kb))
    cos_a.mul_(kb.cos_())
    if g_lat_p is not None:
        g_lat_p.addcmul_(sin_a, gck, value=-1)
    return cos_a.mul_(gck) if need_up else None


def backward(cfg: FusedConfig, needs, x, carried, lat, beta, thr, theta, gsf, g_spk, g_mem,
             mem=None, fast_paths=True):
    """Gradients of (x, carried, lat, beta, thr, theta) given the output gradients.
    ``mem``: the forward's membrane output, which holds every U_p when the windows
    are disjoint (then ``x`` is not needed); else ``x`` and a recomputation."""
    need_x, need_carried, need_lat, need_beta, need_thr, need_theta = needs
    ref = x if mem is None else mem
    n = groups(cfg, ref)
    beta_eff, k = cfg.coefficients(beta, theta)
    dtype = out_dtype(x, carried, lat, beta, thr, theta) if mem is None else mem.dtype
    kw = dict(dtype=dtype, device=ref.device)
    wshape = window(cfg, ref, 0).shape
    tmp = torch.empty(wshape, **kw)
    us = _window_membranes(cfg, x, carried, lat, mem, beta_eff, thr, k, kw, wshape, fast_paths)

    gs_factor = None
    if g_spk is not None:
        # straight-through recomposition: dS_map/dS_p = 1/n, then the magnitude s
        gs_factor = gsf if disjoint(cfg) else gsf / coverage(cfg, ref.device, dtype)
    g_x = None
    if need_x:
        g_x = torch.empty(ref.shape, **kw) if disjoint(cfg) else torch.zeros(ref.shape, **kw)
    g_lat = None
    if need_lat and lat is not None and cfg.projection != "none":
        g_lat = torch.zeros(lat.shape, **kw)
    g_beta = g_thr = g_k = None
    k_beta = beta_eff * k  # d(beta*2 sin(ka))/da = beta*2*k cos(ka)

    carry = None  # gradient reaching U_{p} from window p + 1
    for p in range(n - 1, -1, -1):
        u_p, a = us[p + 1], us[p]
        gu, g_thr_spikes = _membrane_grad(cfg, p, g_spk, gs_factor, g_mem, carry, u_p, thr,
                                          tmp, need_thr, fast_paths)
        if g_thr_spikes is not None:
            g_thr = acc(g_thr, g_thr_spikes)
        if g_x is not None:
            if disjoint(cfg):
                window(cfg, g_x, p).copy_(gu)
            else:
                window(cfg, g_x, p).add_(gu)
        # back through U_p = membrane(beta scale c_p, I_p, R_{p-1}, thr)
        # the reset's partials matter only for reset zero or a learnt threshold: four
        # kernels a window otherwise spent on constants
        dbc = None
        learnt_subtract = need_thr and cfg.reset == "subtract"
        if cfg.reset == "zero" or learnt_subtract:
            r = (a > thr).to(gu.dtype)
            dbc, dthr = spec.membrane_partials(r, cfg.reset_id)
            if learnt_subtract:
                g_thr = acc(g_thr, sum_to(gu * dthr, thr))
        b = window(cfg, lat, p - 1) if (lat is not None and p > 0) else None
        need_up = p > 0 or need_carried
        need_b = b is not None and g_lat is not None
        if not (need_up or need_beta or need_theta or need_b):
            carry = None
            continue
        guz = gu * dbc if cfg.reset == "zero" else gu
        sine = b is None and cfg.projection in ("sincos", "nested")
        if fast_paths and sine and not (need_beta or need_theta):
            carry = _sine_carry(a, k, k_beta, guz, tmp)
            continue
        if fast_paths and cfg.projection == "sincos" and b is not None \
                and not (need_beta or need_theta):
            g_lat_p = window(cfg, g_lat, p - 1) if need_b else None
            carry = _sincos_lateral_carry(a, b, k, k_beta, guz, tmp, g_lat_p, need_up)
            tmp = torch.empty(wshape, **kw)  # the old buffer is the carry now
            continue
        gc = guz * beta_eff  # dL/dc, c = Omega / scale
        c, da, db, dk = spec.project_partials(a, b, k, cfg.proj_id, b is not None)
        if need_beta:
            g_beta = acc(g_beta, sum_to(guz * c, beta) * cfg.scale)
        if need_theta and cfg.projection in ("sincos", "nested"):
            g_k = acc(g_k, sum_to(gc * dk, theta))
        if need_b:
            window(cfg, g_lat, p - 1).add_(gc * db)
        carry = gc * da if need_up else None

    g_carried = carry if need_carried else None
    g_beta, g_theta = cfg.parameter_grads(beta, theta, g_beta, g_k, need_theta)
    return g_x, g_carried, g_lat, g_beta, g_thr, g_theta
