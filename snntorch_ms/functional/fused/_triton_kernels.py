"""Triton kernels of :mod:`snntorch_ms.functional.fused.triton` (imported on first
use only, so that importing snntorch_ms never needs triton). See that module for
what they compute. The option-specific formulas are the functions of
:mod:`snntorch_ms.functional.spec`, rebuilt here as Triton functions (the same
code with the math namespace ``M`` bound to :mod:`triton.language`)."""

import types

import triton
import triton.language as tl

from .. import spec as _spec


def _over_triton(functions):
    """The spec functions as Triton device functions: same code, ``M`` = triton.language."""
    scope = {"M": tl, "__name__": __name__, "__builtins__": __builtins__}
    for fn in functions:
        scope[fn.__name__] = triton.jit(types.FunctionType(fn.__code__, scope, fn.__name__))
    return scope


_SPEC = _over_triton(_spec.SPEC_FUNCTIONS)
project = _SPEC["project"]
project_partials = _SPEC["project_partials"]
membrane = _SPEC["membrane"]
membrane_partials = _SPEC["membrane_partials"]
surrogate_grad = _SPEC["surrogate_grad"]

@triton.jit
def _inbox(boxes_ptr, q, row, col):
    t = tl.load(boxes_ptr + 4 * q)
    b = tl.load(boxes_ptr + 4 * q + 1)
    l = tl.load(boxes_ptr + 4 * q + 2)
    r = tl.load(boxes_ptr + 4 * q + 3)
    return (row >= t) & (row < b) & (col >= l) & (col < r)

@triton.jit
def _index(boxes_ptr, p, plane, b_idx, c, i, j, offs, C, H, W, hw,
           G: tl.constexpr, MAP: tl.constexpr):
    # flat index of window p's element (i, j) in a map [B,C,H,W] or a stack [B,G,C,h,w]
    if MAP:
        t = tl.load(boxes_ptr + 4 * p)
        l = tl.load(boxes_ptr + 4 * p + 2)
        return plane * H * W + (t + i) * W + (l + j)
    else:
        return ((b_idx * G + p) * C + c) * hw + offs

@triton.jit
def _update(a, cur, lb, beta_eff, thr, k, PROJ: tl.constexpr, RESET: tl.constexpr,
            HAS_B: tl.constexpr):
    # one window sub-step: spec.membrane(beta scale spec.project(...), I, R, thr)
    c = project(a, lb, k, PROJ, HAS_B)
    r = (a > thr).to(tl.float32)
    return membrane(c * beta_eff, cur, r, thr, RESET)

@triton.jit
def _param(ptr, c, PER_CHANNEL: tl.constexpr):
    if PER_CHANNEL:
        v = tl.load(ptr + c)
    else:
        v = tl.load(ptr)
    return v.to(tl.float32)

@triton.jit
def _reduce_into(ptr, c, acc, PER_CHANNEL: tl.constexpr):
    if PER_CHANNEL:
        tl.atomic_add(ptr + c, tl.sum(acc, axis=0))
    else:
        tl.atomic_add(ptr, tl.sum(acc, axis=0))

@triton.jit
def _lanes(C, w, hw, BLOCK: tl.constexpr):
    # program (0) = one (b, c) plane, program (1) = a block of its h*w positions
    plane = tl.program_id(0)
    offs = tl.program_id(1) * BLOCK + tl.arange(0, BLOCK)
    return plane, plane // C, plane % C, offs, offs < hw, offs // w, offs % w

@triton.jit
def _params(beta_ptr, thr_ptr, theta_ptr, gsf_ptr, c, scale, PC_BETA: tl.constexpr,
            PC_THR: tl.constexpr, PC_THETA: tl.constexpr, PC_GSF: tl.constexpr):
    # beta clipped to [0, 1] with the projection's factor, threshold, k = theta pi / 2, s
    beta = _param(beta_ptr, c, PC_BETA)
    beta_eff = tl.minimum(tl.maximum(beta, 0.0), 1.0) * scale
    thr = _param(thr_ptr, c, PC_THR)
    k = _param(theta_ptr, c, PC_THETA) * (3.141592653589793 / 2)
    gsf = _param(gsf_ptr, c, PC_GSF)
    return beta_eff, thr, k, gsf

@triton.jit
def _window_step(u, x_ptr, lat_ptr, boxes_ptr, p: tl.constexpr, plane, b_idx, c, i, j, offs,
                 mask, C, H, W, hw, beta_eff, thr, k, G: tl.constexpr, MAP: tl.constexpr,
                 PROJ: tl.constexpr, RESET: tl.constexpr, HAS_LAT: tl.constexpr):
    # window p's sub-step from U_{p-1} = u: (U_p, the flat index of window p)
    idx = _index(boxes_ptr, p, plane, b_idx, c, i, j, offs, C, H, W, hw, G, MAP)
    cur = tl.load(x_ptr + idx, mask=mask, other=0.0).to(tl.float32)
    if HAS_LAT and p > 0:
        lidx = _index(boxes_ptr, p - 1, plane, b_idx, c, i, j, offs, C, H, W, hw, G, MAP)
        lb = tl.load(lat_ptr + lidx, mask=mask, other=0.0).to(tl.float32)
        u = _update(u, cur, lb, beta_eff, thr, k, PROJ, RESET, True)
    else:
        u = _update(u, cur, u, beta_eff, thr, k, PROJ, RESET, False)
    return u, idx

@triton.jit
def _cover(boxes_ptr, p: tl.constexpr, i, j, mask, G: tl.constexpr, BLOCK: tl.constexpr):
    # how many windows cover each position of window p, and where p is the last to
    t = tl.load(boxes_ptr + 4 * p)
    l = tl.load(boxes_ptr + 4 * p + 2)
    row = t + i
    col = l + j
    last = mask
    n = tl.zeros([BLOCK], dtype=tl.float32)
    for q in tl.static_range(G):
        inq = _inbox(boxes_ptr, q, row, col)
        n += inq.to(tl.float32)
        if q > p:
            last = last & (inq == 0)
    n = tl.maximum(n, 1.0)  # masked lanes lie outside every window
    return n, last

@triton.jit
def forward_kernel(x_ptr, carried_ptr, lat_ptr, beta_ptr, thr_ptr, theta_ptr, gsf_ptr,
                   spk_ptr, mem_ptr, boxes_ptr, C, H, W, w, hw, scale,
                   G: tl.constexpr, MAP: tl.constexpr, PARTITION: tl.constexpr,
                   MEAN: tl.constexpr, PROJ: tl.constexpr, RESET: tl.constexpr,
                   HAS_LAT: tl.constexpr, PC_BETA: tl.constexpr, PC_THR: tl.constexpr,
                   PC_THETA: tl.constexpr, PC_GSF: tl.constexpr, BLOCK: tl.constexpr):
    plane, b_idx, c, offs, mask, i, j = _lanes(C, w, hw, BLOCK)
    beta_eff, thr, k, gsf = _params(beta_ptr, thr_ptr, theta_ptr, gsf_ptr, c, scale, PC_BETA,
                                    PC_THR, PC_THETA, PC_GSF)
    u = tl.load(carried_ptr + plane * hw + offs, mask=mask, other=0.0).to(tl.float32)
    for p in tl.static_range(G):
        u, idx = _window_step(u, x_ptr, lat_ptr, boxes_ptr, p, plane, b_idx, c, i, j, offs,
                              mask, C, H, W, hw, beta_eff, thr, k, G, MAP, PROJ, RESET, HAS_LAT)
        fired = u > thr
        if MAP and not PARTITION:
            n, last = _cover(boxes_ptr, p, i, j, mask, G, BLOCK)
            tl.store(mem_ptr + idx, u, mask=last)
            if MEAN:
                tl.atomic_add(spk_ptr + idx, tl.where(fired, gsf / n, 0.0), mask=mask)
            else:
                tl.store(spk_ptr + idx, gsf + 0.0 * u, mask=mask & fired)
        else:
            tl.store(mem_ptr + idx, u, mask=mask)
            tl.store(spk_ptr + idx, tl.where(fired, gsf, 0.0), mask=mask)

@triton.jit
def backward_kernel(x_ptr, carried_ptr, lat_ptr, beta_ptr, thr_ptr, theta_ptr, gsf_ptr,
                    gspk_ptr, gmem_ptr, scratch_ptr, gx_ptr, gcar_ptr, glat_ptr,
                    gbeta_ptr, gthr_ptr, gk_ptr, boxes_ptr, C, H, W, w, hw, n_window,
                    scale, sa,
                    G: tl.constexpr, MAP: tl.constexpr, PARTITION: tl.constexpr,
                    PROJ: tl.constexpr, RESET: tl.constexpr, SURR: tl.constexpr,
                    HAS_LAT: tl.constexpr, HAS_GS: tl.constexpr, HAS_GM: tl.constexpr,
                    NEED_X: tl.constexpr, NEED_CAR: tl.constexpr, NEED_LAT: tl.constexpr,
                    NEED_BETA: tl.constexpr, NEED_THR: tl.constexpr,
                    NEED_THETA: tl.constexpr, PC_BETA: tl.constexpr, PC_THR: tl.constexpr,
                    PC_THETA: tl.constexpr, PC_GSF: tl.constexpr, BLOCK: tl.constexpr):
    plane, b_idx, c, offs, mask, i, j = _lanes(C, w, hw, BLOCK)
    beta_eff, thr, k, gsf = _params(beta_ptr, thr_ptr, theta_ptr, gsf_ptr, c, scale, PC_BETA,
                                    PC_THR, PC_THETA, PC_GSF)
    wpos = plane * hw + offs  # position in a [B, C, h, w] window tensor
    u0 = tl.load(carried_ptr + wpos, mask=mask, other=0.0).to(tl.float32)
    # recompute U_1 .. U_g into the scratch [g, B, C, h, w]
    u = u0
    for p in tl.static_range(G):
        u, idx = _window_step(u, x_ptr, lat_ptr, boxes_ptr, p, plane, b_idx, c, i, j, offs,
                              mask, C, H, W, hw, beta_eff, thr, k, G, MAP, PROJ, RESET, HAS_LAT)
        tl.store(scratch_ptr + p * n_window + wpos, u, mask=mask)
    acc_beta = tl.zeros([BLOCK], dtype=tl.float32)
    acc_thr = tl.zeros([BLOCK], dtype=tl.float32)
    acc_k = tl.zeros([BLOCK], dtype=tl.float32)
    carry = tl.zeros([BLOCK], dtype=tl.float32)
    for pp in tl.static_range(G):
        p = G - 1 - pp
        idx = _index(boxes_ptr, p, plane, b_idx, c, i, j, offs, C, H, W, hw, G, MAP)
        u_p = tl.load(scratch_ptr + p * n_window + wpos, mask=mask, other=0.0)
        if p > 0:
            a = tl.load(scratch_ptr + (p - 1) * n_window + wpos, mask=mask, other=0.0)
        else:
            a = u0
        gu = carry
        if MAP and not PARTITION:
            n, last = _cover(boxes_ptr, p, i, j, mask, G, BLOCK)
        else:
            last = mask
            n = tl.full([BLOCK], 1.0, dtype=tl.float32)
        if HAS_GS:
            gs = tl.load(gspk_ptr + idx, mask=mask, other=0.0).to(tl.float32)
            term = gs * gsf / n * surrogate_grad(u_p - thr, sa, SURR)
            term = tl.where(mask, term, 0.0)
            gu += term
            acc_thr -= term
        if HAS_GM:
            gm = tl.load(gmem_ptr + idx, mask=last, other=0.0).to(tl.float32)
            gu += gm
        gu = tl.where(mask, gu, 0.0)
        if NEED_X:
            if MAP and not PARTITION:
                tl.atomic_add(gx_ptr + idx, gu, mask=mask)
            else:
                tl.store(gx_ptr + idx, gu, mask=mask)
        dbc, dthr = membrane_partials((a > thr).to(tl.float32), RESET)
        acc_thr += gu * dthr
        guz = gu * dbc
        gc = guz * beta_eff
        has_b = HAS_LAT and p > 0
        if has_b:
            lidx = _index(boxes_ptr, p - 1, plane, b_idx, c, i, j, offs, C, H, W, hw, G, MAP)
            lb = tl.load(lat_ptr + lidx, mask=mask, other=0.0).to(tl.float32)
        else:
            lb = a
        # c = Omega / scale and its partials dc/da, dc/db, dc/dk
        cval, da, db, dk = project_partials(a, lb, k, PROJ, has_b)
        acc_beta += guz * cval * scale
        acc_k += gc * dk
        if NEED_LAT and has_b:
            if MAP and not PARTITION:
                tl.atomic_add(glat_ptr + lidx, gc * db, mask=mask)
            else:
                tl.store(glat_ptr + lidx, gc * db, mask=mask)
        carry = gc * da
    if NEED_CAR:
        tl.store(gcar_ptr + wpos, carry, mask=mask)
    if NEED_BETA:
        _reduce_into(gbeta_ptr, c, acc_beta, PC_BETA)
    if NEED_THR:
        _reduce_into(gthr_ptr, c, acc_thr, PC_THR)
    if NEED_THETA:
        _reduce_into(gk_ptr, c, acc_k, PC_THETA)
