r"""The fused time step as pure operations (no in-place writes): the form that
:func:`torch.compile` traces and fuses into a few kernels, and that a
``torch.compile``'d model inlines. Every option-specific formula comes from
:mod:`snntorch_ms.functional.spec`; the recursion is the one in
:mod:`snntorch_ms.functional.fused` (module docstring).
"""

from __future__ import annotations

import torch

from .. import spec
from .config import (
    FusedConfig, acc, coverage, disjoint, groups, last_cover, sum_to, window,
)

__all__: list = []  # an engine: reached through FusedWindowScan and backend.run


def step(cfg: FusedConfig, a, cur, lat, beta_eff, thr, k):
    r"""One window sub-step, :math:`U_p = \texttt{membrane}(\beta\,\text{scale}\,
    c(U_{p-1}, L_{p-1}), I_p, R_{p-1}, \vartheta)`, as pure operations.

    .. math::

        R_{p-1} = \mathbb 1[U_{p-1} > \vartheta]

    Example::

        >>> cfg = FusedConfig.for_single("none", "subtract", ("atan", 2.0))
        >>> step(cfg, torch.tensor([1.5]), torch.tensor([0.2]), None, 0.5, 1.0, 0.0)
        tensor([-0.0500])
    """
    c = spec.project(a, lat, k, cfg.proj_id, lat is not None)
    r = (a > thr).to(c.dtype)
    return spec.membrane(c * beta_eff, cur, r, thr, cfg.reset_id)


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


def compose_sum(cfg, wins, like):
    """Stack, grid or sum of the placed windows (``None`` windows are zeros)."""
    if cfg.layout == "single":
        return like if wins[0] is None else wins[0]
    if disjoint(cfg):
        wins = [torch.zeros_like(like) if w is None else w for w in wins]
        return torch.stack(wins, 1) if cfg.layout == "stack" else _grid(cfg, wins)
    placed = [_pad(cfg, w, p) for p, w in enumerate(wins) if w is not None]
    return sum(placed[1:], placed[0])


def _cover_mask(cfg, p, dtype, device):
    """[h, w] mask of window p's positions that no later window covers."""
    top, bottom, left, right = cfg.boxes[p]
    keep = last_cover(cfg, p)
    if keep is None:
        return torch.ones(bottom - top, right - left, dtype=dtype, device=device)
    mask = torch.zeros(bottom - top, right - left, dtype=dtype, device=device)
    for rs, cs in keep:
        mask[rs, cs] = 1
    return mask


def forward(cfg: FusedConfig, x, carried, lat, beta, thr, theta, gsf):
    """Spikes and membranes of one fused time step."""
    n = groups(cfg, x)
    beta_eff, k = cfg.coefficients(beta, theta)
    u, us, fired = carried, [], []
    for p in range(n):
        b = window(cfg, lat, p - 1) if (lat is not None and p > 0) else None
        u = step(cfg, u, window(cfg, x, p), b, beta_eff, thr, k)
        us.append(u)
        fired.append((u > thr).to(u.dtype))
    if cfg.layout == "single":
        return fired[0] * gsf, us[0]
    if cfg.layout == "stack":
        return torch.stack(fired, 1) * gsf, torch.stack(us, 1)
    if cfg.partition:
        return _grid(cfg, fired) * gsf, _grid(cfg, us)
    mem = _pad(cfg, us[0], 0)
    height, width = cfg.size
    rows = torch.arange(height, device=x.device).view(-1, 1)
    cols = torch.arange(width, device=x.device).view(1, -1)
    for p in range(1, n):
        top, bottom, left, right = cfg.boxes[p]
        inside = (rows >= top) & (rows < bottom) & (cols >= left) & (cols < right)
        mem = torch.where(inside, _pad(cfg, us[p], p), mem)
    count = compose_sum(cfg, fired, fired[0])
    if cfg.condense == "or":
        return (count > 0).to(count.dtype) * gsf, mem
    return count * gsf / coverage(cfg, x.device, count.dtype), mem


def _membranes(cfg, x, carried, lat, mem, beta_eff, thr, k):
    """U_0 .. U_g: the forward's output windows (disjoint windows) or recomputed."""
    ref = x if mem is None else mem
    us = [carried]
    for p in range(groups(cfg, ref)):
        if mem is not None:
            us.append(window(cfg, mem, p))
            continue
        b = window(cfg, lat, p - 1) if (lat is not None and p > 0) else None
        us.append(step(cfg, us[p], window(cfg, x, p), b, beta_eff, thr, k))
    return us


def backward(cfg: FusedConfig, needs, x, carried, lat, beta, thr, theta, gsf,
             g_spk, g_mem, mem=None):
    """Gradients of (x, carried, lat, beta, thr, theta) given the output gradients.
    ``mem``: the forward's membrane output, which holds every U_p when the windows
    are disjoint (then ``x`` is not needed); else ``x`` and a recomputation."""
    need_x, need_carried, need_lat, need_beta, need_thr, need_theta = needs
    ref = x if mem is None else mem
    n = groups(cfg, ref)
    beta_eff, k = cfg.coefficients(beta, theta)
    surr = spec.surrogate_id(cfg.surrogate[0]), cfg.surrogate[1]
    us = _membranes(cfg, x, carried, lat, mem, beta_eff, thr, k)
    gs_factor = None
    if g_spk is not None:
        gs_factor = gsf if disjoint(cfg) else gsf / coverage(cfg, ref.device, us[-1].dtype)
    g_xs, g_lats = [None] * n, [None] * n
    g_beta = g_thr = g_k = None
    carry = None
    for p in range(n - 1, -1, -1):
        u_p, a = us[p + 1], us[p]
        gu = carry
        if g_spk is not None:
            factor = gs_factor if (disjoint(cfg) or gs_factor.dim() < 2) \
                else window(cfg, gs_factor, p)
            term = window(cfg, g_spk, p) * factor * spec.surrogate_grad(u_p - thr, surr[1],
                                                                        surr[0])
            if need_thr:
                g_thr = acc(g_thr, -sum_to(term, thr))
            gu = acc(gu, term)
        if g_mem is not None:
            gm = window(cfg, g_mem, p)
            if not disjoint(cfg) and last_cover(cfg, p) is not None:
                gm = gm * _cover_mask(cfg, p, gm.dtype, gm.device)
            gu = acc(gu, gm)
        if gu is None:
            gu = torch.zeros_like(u_p)
        g_xs[p] = gu
        r = (a > thr).to(gu.dtype)
        dbc, dthr = spec.membrane_partials(r, cfg.reset_id)
        if need_thr and cfg.reset == "subtract":
            g_thr = acc(g_thr, sum_to(gu * dthr, thr))
        b = window(cfg, lat, p - 1) if (lat is not None and p > 0) else None
        guz = gu * dbc if cfg.reset == "zero" else gu
        gc = guz * beta_eff
        c, da, db, dk = spec.project_partials(a, b, k, cfg.proj_id, b is not None)
        if need_beta:
            g_beta = acc(g_beta, sum_to(guz * c, beta) * cfg.scale)
        if need_theta and cfg.projection in ("sincos", "nested"):
            g_k = acc(g_k, sum_to(gc * dk, theta))
        if b is not None:
            g_lats[p - 1] = gc * db
        carry = gc * da if (p > 0 or need_carried) else None

    g_x = compose_sum(cfg, g_xs, g_xs[0]) if need_x else None
    g_lat = None
    if need_lat and lat is not None and cfg.projection != "none":
        g_lat = compose_sum(cfg, g_lats, g_xs[0]) if any(g is not None for g in g_lats) \
            else torch.zeros_like(lat)
    g_carried = carry if need_carried else None
    g_beta, g_theta = cfg.parameter_grads(beta, theta, g_beta, g_k, need_theta)
    return g_x, g_carried, g_lat, g_beta, g_thr, g_theta
