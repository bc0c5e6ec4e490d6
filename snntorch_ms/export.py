"""NIR export of networks holding snntorch-ms neurons.

snntorch's exporter (:func:`snntorch.export_nir.export_to_nir`) maps every module
that passes ``isinstance(module, snntorch.Leaky)`` to a plain ``nir.LIF``. A
:class:`~snntorch_ms.ProjLeaky` is a Leaky subclass, but with its receptive-field
windows on, or a projection of the carried membrane, it computes something that
NIR has no node for. Two guards keep such a network from being exported as
something else:

* :func:`export_to_nir` here checks the whole network first and raises
  :class:`UnsupportedExportError` naming every neuron that cannot be exported,
  then hands the network to snntorch's exporter.
* calling snntorch's exporter directly raises the same error: a ProjLeaky that is
  not exactly a Leaky carries a forward pre-hook (:func:`nir_trace_guard`) that
  raises while nirtorch's graph tracer, the one snntorch's exporter uses, runs
  the network. Nothing global is patched or stored.

A ProjLeaky with ``windows=None`` (or ``groups=1``) and ``projection="none"`` is
exactly :class:`snntorch.Leaky` and exports as the same ``nir.LIF``.

``nir`` and ``nirtorch`` are optional: they are imported only when exporting.
"""

from __future__ import annotations

from typing import List, Optional, Tuple

import torch

__all__ = [
    "UnsupportedExportError",
    "unsupported_modules",
    "check_exportable",
    "export_to_nir",
    "nir_trace_guard",
]


class UnsupportedExportError(ValueError):
    """A module of the network has no faithful NIR equivalent.

    A subclass of :class:`ValueError`, raised by :func:`check_exportable`,
    :func:`export_to_nir` and, during snntorch's own export, by
    :func:`nir_trace_guard`; the message names every such module and why.

    Example::

        >>> from snntorch_ms import ProjLeaky
        >>> try:
        ...     check_exportable(torch.nn.Sequential(ProjLeaky(0.9)))
        ... except UnsupportedExportError as err:
        ...     print(isinstance(err, ValueError), "module '0'" in str(err))
        True True
    """


def _is_unsupported(module: torch.nn.Module) -> bool:
    # duck-typed, so this module need not import the neurons (no import cycle)
    return getattr(module, "nir_exportable", True) is False


def _describe(module: torch.nn.Module, name: Optional[str]) -> str:
    where = f"module {name!r} " if name else "module "
    return f"{where}({module.__class__.__name__}: {module.extra_repr()})"


def _reason(module: torch.nn.Module) -> str:
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


def unsupported_modules(net: torch.nn.Module) -> List[Tuple[str, torch.nn.Module]]:
    """The ``(name, module)`` pairs of ``net`` (``net`` itself included, named
    ``""``) that cannot be exported to NIR faithfully.

    Example::

        >>> from snntorch_ms import ProjLeaky
        >>> net = torch.nn.Sequential(torch.nn.Conv2d(2, 3, 3), ProjLeaky(0.9))
        >>> [name for name, _ in unsupported_modules(net)]
        ['1']

    :param net: the network
    :type net: torch.nn.Module
    :return: the modules whose ``nir_exportable`` attribute is False, with their names
    :rtype: list(tuple(str, torch.nn.Module))
    """
    return [(name, mod) for name, mod in net.named_modules() if _is_unsupported(mod)]


def check_exportable(net: torch.nn.Module) -> None:
    """Raise :class:`UnsupportedExportError` listing every module of ``net`` that
    has no faithful NIR equivalent; return None otherwise.

    Example::

        >>> from snntorch_ms import ProjLeaky
        >>> leaky_twin = ProjLeaky(0.9, windows=None, projection="none")
        >>> check_exportable(torch.nn.Sequential(torch.nn.Linear(2, 3), leaky_twin)) is None
        True
        >>> try:
        ...     check_exportable(torch.nn.Sequential(torch.nn.Linear(2, 3), ProjLeaky(0.9)))
        ... except UnsupportedExportError as err:
        ...     print(str(err)[:60])
        cannot export to NIR: 1 module(s) cannot be exported: module

    :param net: the network
    :type net: torch.nn.Module
    :raises UnsupportedExportError: naming every module that cannot be exported
    """
    bad = unsupported_modules(net)
    if not bad:
        return
    listed = "; ".join(f"{_describe(mod, name or '<root>')}: {_reason(mod)}"
                       for name, mod in bad)
    raise UnsupportedExportError(
        f"cannot export to NIR: {len(bad)} module(s) cannot be exported: {listed}"
    )


def export_to_nir(net: torch.nn.Module, sample_data: torch.Tensor, **kwargs):
    """Export ``net`` to NIR with snntorch's exporter, after checking that every
    snntorch-ms neuron in it has a faithful NIR equivalent.

    The check runs before ``nir`` and ``nirtorch`` are imported, so it needs
    neither of them.

    Example::

        >>> from snntorch_ms import ProjLeaky
        >>> net = torch.nn.Sequential(torch.nn.Conv2d(2, 3, 3), ProjLeaky(0.9, init_hidden=True))
        >>> try:
        ...     export_to_nir(net, torch.rand(1, 2, 8, 8))
        ... except UnsupportedExportError as err:
        ...     print("module '1'" in str(err), "no NIR equivalent" in str(err))
        True True

    :param net: the network
    :type net: torch.nn.Module
    :param sample_data: sample input, as for :func:`snntorch.export_nir.export_to_nir`
    :type sample_data: torch.Tensor
    :param kwargs: passed on to :func:`snntorch.export_nir.export_to_nir`
        (``model_name``, ``model_fwd_args``, ``ignore_dims``)
    :raises UnsupportedExportError: naming every module that cannot be exported
    :raises ImportError: if ``nir`` or ``nirtorch`` is missing
    :return: the ``nir.NIRGraph``
    """
    check_exportable(net)
    try:
        from snntorch.export_nir import export_to_nir as _snntorch_export
    except ImportError as err:  # nir / nirtorch missing
        raise ImportError(
            "NIR export needs the packages 'nir' and 'nirtorch' "
            "(pip install nir nirtorch)"
        ) from err
    return _snntorch_export(net, sample_data, **kwargs)


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
    with :meth:`torch.nn.Module.register_forward_pre_hook`.

    Example::

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
    if not _is_unsupported(module):
        return None
    raise UnsupportedExportError(
        f"cannot export to NIR: {_describe(module, _traced_name(module))}: "
        f"{_reason(module)}"
    )
