"""The guard a :class:`~snntorch_ms.ProjLeaky` carries against snntorch's own NIR
exporter.

``snntorch.export_nir.export_to_nir`` writes every ``snntorch.Leaky`` subclass as a
plain ``nir.LIF``. A ProjLeaky that is not exactly a Leaky (``nir_exportable`` is
False) registers :func:`nir_trace_guard` as a forward pre-hook: it raises
:class:`UnsupportedExportError` while nirtorch's graph tracer, the one snntorch's
exporter uses, runs the network, and does nothing otherwise. Nothing global is
patched or stored. Everything here reads the neuron duck-typed (``nir_exportable``,
``windowed``, ``windows``, ``groups``, ``projection``); :mod:`snntorch_ms.export`
builds on it. Upstream, a ``ProjLeaky`` branch in snntorch's exporter would
replace this module.
"""

from __future__ import annotations

from typing import Optional

import torch

__all__ = ["UnsupportedExportError", "nir_trace_guard"]


class UnsupportedExportError(ValueError):
    """A module of the network has no faithful NIR equivalent.

    A subclass of :class:`ValueError`, raised by :func:`check_exportable`,
    :func:`export_to_nir` and, during snntorch's own export, by
    :func:`nir_trace_guard`; the message names every such module and why.

    Example::

        >>> from snntorch_ms import ProjLeaky
        >>> from snntorch_ms.export import check_exportable
        >>> try:
        ...     check_exportable(torch.nn.Sequential(ProjLeaky(0.9)))
        ... except UnsupportedExportError as err:
        ...     print(isinstance(err, ValueError), "module '0'" in str(err))
        True True
    """


def is_unsupported(module: torch.nn.Module) -> bool:
    """Whether ``module`` says it has no faithful NIR export (duck-typed)."""
    return getattr(module, "nir_exportable", True) is False


def describe(module: torch.nn.Module, name: Optional[str]) -> str:
    """The module as an error message names it."""
    where = f"module {name!r} " if name else "module "
    return f"{where}({module.__class__.__name__}: {module.extra_repr()})"


def reason(module: torch.nn.Module) -> str:
    """Why ``module`` cannot be exported, and how to build one that can."""
    parts = []
    if getattr(module, "windowed", False):
        parts.append(
            f"its receptive-field windows (windows={module.windows!r}, "
            f"groups={module.groups})"
        )
    projection = getattr(module, "projection", "none")
    if projection != "none":
        shown = projection if isinstance(projection, str) else "callable"
        parts.append(f"its carried-membrane projection (projection={shown!r})")
    what = " and ".join(parts) or "its configuration"
    verb = "have" if len(parts) > 1 else "has"
    return (
        f"{what} {verb} no NIR equivalent: snntorch's exporter would write it as a "
        "plain nir.LIF, which computes something else. Only a ProjLeaky with "
        "windows=None (or groups=1) and projection='none' is exactly snntorch.Leaky; "
        "build it that way to export it as a plain LIF"
    )



# -- guard for snntorch's own exporter -----------------------------------------


def _nirtorch_tracing() -> bool:
    # nirtorch's graph tracer (nirtorch.graph.GraphTracer, which
    # snntorch.export_nir.export_to_nir uses through nirtorch.extract_nir_graph)
    # replaces torch.nn.Module.__call__ with its own wrapper while it runs the
    # network; outside a trace the attribute is torch's own.
    call = torch.nn.Module.__call__
    return str(getattr(call, "__module__", "")).startswith("nirtorch")


def _traced_name(module: torch.nn.Module) -> Optional[str]:
    # Best effort: the module's name in the traced network, read from the tracer's
    # module map held by its __call__ wrapper. None when it cannot be found.
    try:
        for cell in torch.nn.Module.__call__.__closure__ or ():
            names = getattr(cell.cell_contents, "module_names", None)
            if isinstance(names, dict) and module in names:
                return str(names[module])
    except Exception:  # noqa: BLE001 - naming must never hide the real error
        pass
    return None


def nir_trace_guard(module: torch.nn.Module, args) -> None:
    """Forward pre-hook of a neuron that has no NIR equivalent: raises
    :class:`UnsupportedExportError` while nirtorch's graph tracer runs the network
    (as ``snntorch.export_nir.export_to_nir`` does), and does nothing otherwise.

    A :class:`~snntorch_ms.ProjLeaky` that is not exactly a Leaky registers it
    with :meth:`torch.nn.Module.register_forward_pre_hook`. It lives beside the
    neuron (which imports nothing above :mod:`snntorch_ms.functional`);
    :mod:`snntorch_ms.export` re-exports it.

    Example::

        >>> import torch
        >>> from snntorch_ms import ProjLeaky
        >>> lif = ProjLeaky(0.9)
        >>> nir_trace_guard(lif, (torch.rand(1, 1, 4, 4),)) is None  # not tracing
        True

    :param module: the neuron about to run
    :type module: torch.nn.Module
    :param args: the positional arguments of its call (unused)
    :type args: tuple
    :raises UnsupportedExportError: while nirtorch traces a module with
        ``nir_exportable = False``
    """
    if torch.compiler.is_compiling() or not _nirtorch_tracing():
        return None
    if not is_unsupported(module):
        return None
    raise UnsupportedExportError(
        f"cannot export to NIR: {describe(module, _traced_name(module))}: "
        f"{reason(module)}"
    )
