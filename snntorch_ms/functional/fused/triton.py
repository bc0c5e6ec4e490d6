r"""Triton kernels for the fused window scan (CUDA; or the CPU with
``TRITON_INTERPRET=1``, which is how they are tested without a GPU).

One program handles ``BLOCK`` window-local positions of one ``(batch, channel)``
plane and runs the ``g`` window sub-steps of every position in registers:

.. math::

    U_p = \beta z_p\, \Omega(U_{p-1}, L_{p-1}) + I_p - \vartheta R_{p-1}, \qquad
    S_p = \Theta(U_p - \vartheta)\, s

The forward writes the recomposed spikes (``"or"``: :math:`s` wherever a window
fired; ``"mean"``: an atomic sum of :math:`S_p / n`) and the membrane of the last
window covering each position. The backward recomputes :math:`U_1..U_g` into a
scratch buffer, then runs the recursion of :mod:`snntorch_ms.functional.fused`
backwards; input and lateral gradients of overlapping windows are added
atomically; ``beta``/``threshold``/``theta`` gradients are reduced per program
and added atomically per channel. Arithmetic is float32 in registers whatever
the storage type.

The kernels are opt-in (``ProjLeaky(backend="triton")``): they are
checked against the eager fused math here, but their speed against the compiled math has not been
measured on a GPU yet.
"""

from __future__ import annotations

import math

import torch

from .. import spec
from .config import out_dtype as _out_dtype

__all__ = ["supported", "triton_forward", "triton_backward"]


_KERNELS = None


def _kernels():
    """The kernels, imported on first use (importing this module never needs triton)."""
    global _KERNELS
    if _KERNELS is None:
        from . import _triton_kernels as k

        _KERNELS = (k.forward_kernel, k.backward_kernel)
    return _KERNELS


_BLOCK = 256


def _per_channel(t: torch.Tensor, channels: int) -> bool:
    if t.numel() == 1:
        return False
    if t.numel() != channels:
        raise ValueError("the Triton kernels take scalar or per-channel [C] parameters")
    return True


def _geometry(cfg, x):
    """(B, C, H, W, h, w) of a map or a stack; the boxes as an int32 tensor."""
    if cfg.layout == "map":
        batch, channels, height, width = x.shape
        boxes = cfg.boxes
        h, w = boxes[0][1] - boxes[0][0], boxes[0][3] - boxes[0][2]
        groups = len(boxes)
    else:
        if x.dim() != 5:
            raise ValueError("the Triton kernels take a stack [B, g, C, h, w]")
        batch, groups, channels, h, w = x.shape
        height, width = h, w
        boxes = ((0, h, 0, w),) * groups
    flat = torch.tensor([v for box in boxes for v in box], dtype=torch.int32, device=x.device)
    return batch, groups, channels, height, width, h, w, flat


def supported(cfg, x, lat, *params) -> bool:
    r"""Whether the kernels take these arguments: a map ``[B, C, H, W]`` or a
    stack ``[B, g, C, h, w]``, and scalar or per-channel parameters.

    .. math::

        x \in \mathbb R^{B \times C \times H \times W} \cup
        \mathbb R^{B \times g \times C \times h \times w}

    Example::

        >>> from snntorch_ms.functional.fused import FusedConfig
        >>> cfg = FusedConfig.for_stack("none", "subtract", ("atan", 2.0))
        >>> supported(cfg, torch.zeros(2, 3), None, torch.tensor(0.5))
        False
    """
    if cfg.layout == "single":
        return False  # one window of any shape: the eager or compiled math
    if cfg.layout == "map" and x.dim() != 4 or cfg.layout == "stack" and x.dim() != 5:
        return False
    channels = x.shape[1] if cfg.layout == "map" else x.shape[2]
    return all(p.numel() in (1, channels) for p in params)


def triton_forward(cfg, x, carried, lat, beta, thr, theta, gsf):
    r"""The forward kernel: ``(spk, mem)`` as :func:`~snntorch_ms.functional.fused.FusedWindowScan`
    returns them.

    .. math::

        U_p = \beta z_p \Omega(U_{p-1}, L_{p-1}) + I_p - \vartheta R_{p-1}

    Example (CUDA, or the CPU with ``TRITON_INTERPRET=1``)::

        >>> from snntorch_ms.functional.fused import FusedConfig
        >>> cfg = FusedConfig.for_map(4, 4, "quad", 4, "sincos", "subtract", "or", ("atan", 2.0))
        >>> one = torch.tensor(1.0, device="cuda")  # doctest: +SKIP
        >>> spk, mem = triton_forward(cfg, torch.rand(2, 3, 4, 4, device="cuda"),
        ...                           torch.zeros(2, 3, 2, 2, device="cuda"), None,
        ...                           one * 0.5, one, one * 0.5, one)  # doctest: +SKIP
    """
    fwd, _ = _kernels()
    batch, groups, channels, height, width, h, w, boxes = _geometry(cfg, x)
    dtype = _out_dtype(x, carried, lat, beta, thr, theta)
    x_c, car = x.contiguous(), carried.contiguous()
    lat_c = lat.contiguous() if lat is not None else x_c
    partition = cfg.layout == "stack" or cfg.partition
    mean = cfg.layout == "map" and cfg.condense == "mean" and not partition
    spk = (torch.empty if partition else torch.zeros)(
        x.shape, dtype=torch.float32 if mean else dtype, device=x.device)
    mem = torch.empty(x.shape, dtype=dtype, device=x.device)
    ps = [t.detach().contiguous() for t in (beta, thr, theta, gsf)]
    pcs = [_per_channel(t, channels) for t in ps]
    grid = (batch * channels, math.ceil(h * w / _BLOCK))
    fwd[grid](x_c, car, lat_c, *ps, spk, mem, boxes, channels, height, width, w, h * w,
              cfg.scale, G=groups, MAP=cfg.layout == "map",
              PARTITION=partition, MEAN=mean, PROJ=cfg.proj_id,
              RESET=cfg.reset_id, HAS_LAT=lat is not None, PC_BETA=pcs[0],
              PC_THR=pcs[1], PC_THETA=pcs[2], PC_GSF=pcs[3], BLOCK=_BLOCK)
    return spk.to(dtype), mem


def triton_backward(cfg, needs, x, carried, lat, beta, thr, theta, gsf, g_spk, g_mem):
    r"""The backward kernel: gradients of ``(x, carried, lat, beta, thr, theta)``.

    .. math::

        \bar U_p = \bar M_p + s\,\sigma'(U_p - \vartheta)\,\bar S_p
            + \beta z_{p+1}\,\partial_a\Omega(U_p, L_p)\,\bar U_{p+1}

    ``needs`` flags which of the six inputs want a gradient; ``g_spk`` and
    ``g_mem`` are the output gradients (either may be None).

    Example (CUDA, or the CPU with ``TRITON_INTERPRET=1``)::

        >>> grads = triton_backward(cfg, (True,) * 6, x, carried, None, beta, thr, theta,
        ...                         gsf, torch.ones_like(spk), None)  # doctest: +SKIP
    """
    _, bwd = _kernels()
    need_x, need_car, need_lat, need_beta, need_thr, need_theta = needs
    batch, groups, channels, height, width, h, w, boxes = _geometry(cfg, x)
    dtype = _out_dtype(x, carried, lat, beta, thr, theta)
    partition = cfg.layout == "stack" or cfg.partition
    dev = x.device
    x_c, car = x.contiguous(), carried.contiguous()
    lat_c = lat.contiguous() if lat is not None else x_c
    f32 = dict(dtype=torch.float32, device=dev)
    n_window = batch * channels * h * w
    scratch = torch.empty(groups * n_window, **f32)
    gx = (torch.empty if partition else torch.zeros)(x.shape, **f32) if need_x else scratch
    gcar = torch.empty(car.shape, **f32) if need_car else scratch
    has_lat_grad = need_lat and lat is not None and cfg.projection != "none"
    glat = torch.zeros(lat.shape, **f32) if has_lat_grad else scratch
    ps = [t.detach().contiguous() for t in (beta, thr, theta, gsf)]
    pcs = [_per_channel(t, channels) for t in ps]
    gpar = [torch.zeros(channels if pc else 1, **f32) for pc in pcs[:3]]
    gs = g_spk.contiguous() if g_spk is not None else x_c
    gm = g_mem.contiguous() if g_mem is not None else x_c
    kind, sa = cfg.surrogate
    grid = (batch * channels, math.ceil(h * w / _BLOCK))
    bwd[grid](x_c, car, lat_c, *ps, gs, gm, scratch, gx, gcar, glat, *gpar, boxes,
              channels, height, width, w, h * w, n_window, cfg.scale, float(sa),
              G=groups, MAP=cfg.layout == "map", PARTITION=partition,
              PROJ=cfg.proj_id, RESET=cfg.reset_id, SURR=spec.surrogate_id(kind),
              HAS_LAT=lat is not None, HAS_GS=g_spk is not None, HAS_GM=g_mem is not None,
              NEED_X=need_x, NEED_CAR=need_car, NEED_LAT=has_lat_grad, NEED_BETA=need_beta,
              NEED_THR=need_thr, NEED_THETA=need_theta, PC_BETA=pcs[0], PC_THR=pcs[1],
              PC_THETA=pcs[2], PC_GSF=pcs[3], BLOCK=_BLOCK)

    def shaped(g, like):
        return g.reshape(like.shape).to(like.dtype)

    g_beta = g_thr = g_theta = None
    if need_beta:
        g_beta = shaped(gpar[0], beta) * ((beta >= 0) & (beta <= 1))
    if need_thr:
        g_thr = shaped(gpar[1], thr)
    if need_theta and cfg.projection in ("sincos", "nested"):
        g_theta = shaped(gpar[2] * spec.HALF_PI, theta)
    return (gx.to(dtype) if need_x else None, gcar.to(dtype) if need_car else None,
            glat.to(dtype) if has_lat_grad else None, g_beta, g_thr, g_theta)
