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
  not exactly a Leaky carries a forward pre-hook (:func:`nir_trace_guard`, defined
  beside the neuron and re-exported here) that raises while nirtorch's graph
  tracer, the one snntorch's exporter uses, runs the network. Nothing global is
  patched or stored.

This module inspects the neurons duck-typed (their ``nir_exportable``); the
neuron imports nothing from it.

A ProjLeaky with ``windows=None`` (or ``groups=1``) and ``projection="none"`` is
exactly :class:`snntorch.Leaky` and exports as the same ``nir.LIF``.

``nir`` and ``nirtorch`` are optional: they are imported only when exporting.
"""

from __future__ import annotations

from typing import List, Tuple

import torch

from ._neurons._nir import UnsupportedExportError, describe, is_unsupported, nir_trace_guard, reason

__all__ = [
    "UnsupportedExportError",
    "unsupported_modules",
    "check_exportable",
    "export_to_nir",
    "nir_trace_guard",
]


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
    return [(name, mod) for name, mod in net.named_modules() if is_unsupported(mod)]


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
    listed = "; ".join(f"{describe(mod, name or '<root>')}: {reason(mod)}"
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
