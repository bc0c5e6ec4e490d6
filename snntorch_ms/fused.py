r"""Switching a network's ProjLeaky neurons between the fused and the reference path.

:func:`use_fused` sets ``backend`` on every :class:`~snntorch_ms.ProjLeaky` inside a
network; :func:`configure` (from :mod:`snntorch_ms.functional.fused`) chooses how
the fused path runs (compiled, Triton) for the process.
"""

from __future__ import annotations

from typing import Optional

import torch

from ._neurons import ProjLeaky
from .functional.fused import configure, fused_compile_enabled, set_fused_compile

__all__ = ["use_fused", "configure", "set_fused_compile", "fused_compile_enabled"]


def use_fused(net: torch.nn.Module, enabled: Optional[bool] = True,
              compile: Optional[bool] = None) -> torch.nn.Module:
    r"""Run every :class:`~snntorch_ms.ProjLeaky` inside ``net`` (at any depth,
    ``net`` itself included) on the fused path (``enabled=True``:
    ``backend="fused"``), on the reference path (``enabled=False``:
    ``backend="reference"``) or back on the default choice (``enabled=None``:
    ``backend="auto"``, fused except for the exact-Leaky twin). Returns ``net``.

    The fused path computes the same time step,

    .. math::

        C_p = \Omega(U_{p-1}, L_{p-1}), \quad
        U_p = \beta C_p + I_p - \vartheta R_{p-1}, \quad
        S_p = \Theta(U_p - \vartheta),

    as one :class:`torch.autograd.Function` with a hand-written backward that
    saves only the inputs and recomputes the window membranes; neurons whose
    options it does not cover keep the reference path and warn once.
    ``compile`` (if not None) is passed to
    :func:`~snntorch_ms.functional.fused.configure`, a process-wide
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
    backend = "auto" if enabled is None else ("fused" if enabled else "reference")
    for module in net.modules():
        if isinstance(module, ProjLeaky):
            module.backend = backend
    if compile is not None:
        configure(compile=compile)
    return net
