r"""Switching a network to the fused ProjLeaky path.

:func:`use_fused` flips ``fused`` on every :class:`~snntorch_ms.ProjLeaky` inside a
network; the fused scan itself lives in :mod:`snntorch_ms.functional.fused`.
"""

from __future__ import annotations

from typing import Optional

import torch

from ._neurons import ProjLeaky
from .functional.fused import fused_compile_enabled, set_fused_compile

__all__ = ["use_fused", "set_fused_compile", "fused_compile_enabled"]


def use_fused(net: torch.nn.Module, enabled: bool = True,
              compile: Optional[bool] = None) -> torch.nn.Module:
    r"""Run every :class:`~snntorch_ms.ProjLeaky` inside ``net`` (at any depth,
    ``net`` itself included) on the fused path (``enabled=True``) or on the
    reference path (``enabled=False``). Returns ``net``.

    The fused path computes the same time step,

    .. math::

        C_p = \Omega(U_{p-1}, L_{p-1}), \quad
        U_p = \beta C_p + I_p - \vartheta R_{p-1}, \quad
        S_p = \Theta(U_p - \vartheta),

    as one :class:`torch.autograd.Function` with a hand-written backward that
    saves only the inputs and recomputes the window membranes; neurons whose
    options it does not cover keep the reference path and warn once.
    ``compile`` (if not None) is passed to
    :func:`~snntorch_ms.functional.fused.set_fused_compile`, a process-wide
    setting: whether the fused math is compiled with :func:`torch.compile`.

    Example::

        >>> import torch
        >>> from snntorch_ms import ProjLeaky
        >>> net = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1),
        ...                           ProjLeaky(beta=0.5, init_hidden=True))
        >>> net = use_fused(net)
        >>> net[1].fused
        True
        >>> net(torch.rand(2, 1, 8, 8)).shape
        torch.Size([2, 4, 8, 8])
    """
    for module in net.modules():
        if isinstance(module, ProjLeaky):
            module.fused = bool(enabled)
    if compile is not None:
        set_fused_compile(compile)
    return net
