r"""The fused time step as one :class:`torch.autograd.Function`."""

from __future__ import annotations

import torch

from . import backend, triton
from .config import FusedConfig, disjoint

__all__ = ["FusedWindowScan", "fused_window_scan"]


def _use_triton(engine, cfg, x, lateral, *params) -> bool:
    # while a model is compiled the pure math is traced instead
    return (engine == "triton" and not torch.compiler.is_compiling()
            and triton.supported(cfg, x, lateral, *params))


def _sig(*tensors):
    # compile-cache key of the tensor arguments, batch size left out
    return tuple(None if t is None else (tuple(t.shape[1:]) if t.dim() > 1 else t.dim(),
                                         t.dtype, t.device.type) for t in tensors)


class FusedWindowScan(torch.autograd.Function):
    r"""One fused ProjLeaky time step with a hand-written backward.

    ``forward(ctx, cfg, x, carried, lateral, beta, threshold, theta, gsf, engine)``
    returns ``(spk, mem)`` in the input's layout (map: recomposed spikes with
    ``cfg.condense`` and the last-window membrane map; stack: the stacks;
    single: one window). ``carried`` is the membrane carried into window 1;
    ``lateral`` is ``None`` or the input's shape; ``beta``, ``threshold``,
    ``theta`` and ``gsf`` broadcast against one window. ``engine`` is
    ``"eager"`` (the default), ``"compiled"`` or ``"triton"`` (see
    :func:`~snntorch_ms.functional.fused.backend.resolve`). Saved for backward: the
    membrane output when the windows are disjoint (it holds every :math:`U_p`),
    else the input, from which the window membranes are recomputed (see
    :mod:`snntorch_ms.functional.fused` for the recursion):

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
    def forward(ctx, cfg, x, carried, lateral, beta, threshold, theta, gsf, engine="eager"):
        ctx.cfg, ctx.engine = cfg, engine
        ctx.set_materialize_grads(False)
        use_triton = _use_triton(engine, cfg, x, lateral, beta, threshold, theta, gsf)
        with torch.no_grad():
            if use_triton:
                spk, mem = triton.triton_forward(cfg, x, carried, lateral, beta, threshold,
                                                 theta, gsf)
            else:
                spk, mem = backend.run("fwd", engine, cfg,
                                       _sig(x, carried, lateral, beta, threshold, theta),
                                       x, carried, lateral, beta, threshold, theta, gsf)
        ctx.saved_mem = disjoint(cfg) and not use_triton
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
            return (None,) * 9
        cfg, engine = ctx.cfg, ctx.engine
        with torch.no_grad():
            if mem is None and _use_triton(engine, cfg, x, lateral, beta, threshold, theta,
                                           gsf):
                grads = triton.triton_backward(cfg, needs, x, carried, lateral, beta,
                                               threshold, theta, gsf, g_spk, g_mem)
            else:
                grads = backend.run("bwd", engine, cfg,
                                    (needs, g_spk is None, g_mem is None, mem is None,
                                     _sig(saved, carried, lateral, beta, threshold, theta)),
                                    needs, x, carried, lateral, beta, threshold,
                                    theta, gsf, g_spk, g_mem, mem)
        out = [None]
        for need, g, t in zip(needs, grads, (saved, carried, lateral, beta, threshold, theta)):
            if not need or g is None:
                out.append(None)
            else:
                dtype = ctx.x_dtype if t is saved else t.dtype
                out.append(g.to(dtype).reshape(t.shape))
        out += [None, None]  # gsf, engine (autograd drops trailing Nones it was not given)
        return tuple(out)


def fused_window_scan(cfg: FusedConfig, x, carried, lateral, beta, threshold, theta, gsf,
                      engine: str = "eager"):
    r"""Functional entry point of :class:`FusedWindowScan`: one fused time step on
    ``engine`` (``"eager"``, ``"compiled"`` or ``"triton"``).

    Map layout: ``x`` ``[B, C, H, W]`` is cut into ``cfg.boxes``, scanned and
    recomposed; stack layout: ``x`` ``[B, g, ...]`` is scanned as it is; single:
    ``x`` of any shape is one window. Scalars are promoted to tensors.

    .. math::

        (S, U) = \mathrm{recompose}\big(\mathrm{scan}_{p=1..g}(I_p, U_{p-1}, L_{p-1})\big)

    Example::

        >>> cfg = FusedConfig.for_stack("none", "subtract", ("atan", 2.0))
        >>> spk, mem = fused_window_scan(cfg, torch.ones(1, 2, 1), torch.zeros(1, 1), None,
        ...                              0.5, 1.5, 0.5, 1.0)
        >>> mem.flatten().tolist(), spk.flatten().tolist()
        ([1.0, 1.5], [0.0, 0.0])
    """
    beta, threshold, theta, gsf = (
        v if isinstance(v, torch.Tensor) else torch.tensor(v, dtype=x.dtype, device=x.device)
        for v in (beta, threshold, theta, gsf)
    )
    return FusedWindowScan.apply(cfg, x, carried, lateral, beta, threshold, theta, gsf, engine)
