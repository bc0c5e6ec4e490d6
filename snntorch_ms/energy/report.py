r"""The energy report: :func:`measure_energy` counts (:mod:`~snntorch_ms.energy.counting`),
prices (:mod:`~snntorch_ms.energy.pricing`) and returns an :class:`EnergyReport`,
which prints and plots itself through :mod:`~snntorch_ms.energy.display`.

The headline (``total_j``, ``per_image_j``) is the synaptic energy. The
neuron-internal and elementwise work (membrane updates, ProjLeaky's sines and
cosines, ReLUs, unfolded batch norms) is reported beside it, per image too
(``neuron_per_image_j``), and in a total that includes it
(``per_image_with_neurons_j``).

Example::

    >>> import torch
    >>> from torch import nn
    >>> net = nn.Sequential(nn.Linear(4, 3), nn.ReLU())
    >>> r = measure_energy(net, torch.tensor([[0.1, 0.2, 0.3, 0.4]]))
    >>> r.macs, r.acs, r.neuron_acs      # 12 synaptic MACs; 3 ReLU comparisons apart
    (12, 0, 3)
    >>> round(r.per_image_j * 1e12, 6), round(r.per_image_with_neurons_j * 1e12, 6)
    (55.2, 57.9)
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional

from torch import nn

from . import display
from .counting import count_operations
from .pricing import (
    E_AC,
    E_MAC,
    TRIG_MACS,
    joules,
    neuron_cost,
    paper_cost,
    paper_multiplied_layers,
    resolve_convention,
    spike_driven_cost,
)

__all__ = [
    "LayerEnergy",
    "NeuronEnergy",
    "EnergyReport",
    "measure_energy",
    "energy_ratio",
    "compare",
    "plot_energy",
]


@dataclass
class LayerEnergy:
    r"""One synaptic layer of an :class:`EnergyReport`, summed over all its calls.

    Example::

        >>> import torch
        >>> from torch import nn
        >>> row = measure_energy(nn.Linear(4, 3), torch.tensor([[1.0, 0.0, 1.0, 0.0]])).rows[0]
        >>> row.name, row.kind, row.calls, row.ops, row.acs, row.input_rate
        ('', 'linear', 1, 12, 6, 0.5)

    :param name: qualified module name (from ``model.named_modules()``)
    :type name: str
    :param kind: ``"conv1d"``, ``"conv2d"``, ``"conv3d"``, ``"linear"``, ``"lstm"``,
        ``"gru"`` or ``"rnn"``
    :type kind: str
    :param calls: how many times the layer ran
    :type calls: int
    :param ops: synaptic operations (dense count, see :mod:`~snntorch_ms.energy.counting`)
    :type ops: int
    :param macs: operations billed as MACs (in the paper convention: multiplications)
    :type macs: int or float
    :param acs: operations billed as ACs (in the paper convention: additions)
    :type acs: int or float
    :param input_rate: fraction of non-zero input elements over all calls
    :type input_rate: float
    :param energy_j: :math:`E_{MAC} \cdot macs + E_{AC} \cdot acs`, joules, whole batch
    :type energy_j: float
    :param binary_calls: calls whose input was binary (billed as ACs, spike-driven
        convention). Defaults to 0
    :type binary_calls: int, optional
    """

    name: str
    kind: str
    calls: int
    ops: int
    macs: float
    acs: float
    input_rate: float
    energy_j: float
    binary_calls: int = 0


@dataclass
class NeuronEnergy:
    r"""The elementwise work of one module in an :class:`EnergyReport` (a spiking
    neuron, a ReLU or a batch norm), summed over its calls, whole batch.

    Example::

        >>> import torch, snntorch as snn
        >>> from torch import nn
        >>> net = nn.Sequential(snn.Leaky(beta=0.5, init_hidden=True))
        >>> (row,) = measure_energy(net, torch.ones(2, 3)).neuron_rows
        >>> row.kind, row.updates, row.macs, row.acs   # 6 updates x (1 MAC + 2 ACs)
        ('leaky', 6, 6, 12)

    :param name: qualified module name
    :type name: str
    :param kind: ``"leaky"``, ``"projleaky"``, ``"relu"`` or ``"batchnorm"``
    :type kind: str
    :param calls: how many times the module ran
    :type calls: int
    :param updates: membrane updates (window sub-steps for ProjLeaky), or elements
    :type updates: int
    :param sines: sines of the projection
    :type sines: int
    :param cosines: cosines of the projection
    :type cosines: int
    :param macs: MAC-equivalents (a sine or cosine counts ``trig_macs``)
    :type macs: int or float
    :param acs: ACs
    :type acs: int or float
    :param energy_j: :math:`E_{MAC} \cdot macs + E_{AC} \cdot acs`, joules, whole batch
    :type energy_j: float
    :param projection: ProjLeaky's projection (``"callable"`` for a user function,
        not counted). Defaults to ``""``
    :type projection: str, optional
    """

    name: str
    kind: str
    calls: int
    updates: int
    sines: int
    cosines: int
    macs: float
    acs: float
    energy_j: float
    projection: str = ""


@dataclass
class EnergyReport:
    r"""The result of :func:`measure_energy`.

    Energies are in joules for the whole batch (``total_j``,
    ``neuron_energy_j``, ``total_with_neurons_j``) and per input (``per_image_j``,
    ``neuron_per_image_j``, ``per_image_with_neurons_j``, the batch figures
    divided by ``batch_size``). ``total_j`` and ``per_image_j`` are the synaptic
    headline; the neuron-internal and elementwise work is ``neuron_rows``,
    ``neuron_macs``, ``neuron_acs``, ``neuron_ops`` (their sum) and
    ``neuron_energy_j``. ``firing_rates`` maps each spiking neuron's name to its
    firing rate; ``mean_rate`` is the network's mean, None without spiking neurons.

    .. math::

        E_{\rm per\,input}^{\rm with\,neurons} = \frac{E_{\rm syn} + E_{\rm neur}}{B}

    Example::

        >>> import torch
        >>> from torch import nn
        >>> r = measure_energy(nn.Linear(4, 3), torch.tensor([[1.0, 0.0, 1.0, 0.0]]))
        >>> r.rows[0].acs, r.rows[0].macs   # binary input: 2 spikes x 3 outputs
        (6, 0)
        >>> r.to_dict()["acs"]
        6

    :param rows: one :class:`LayerEnergy` per synaptic layer, in call order
    :type rows: list(LayerEnergy)
    :param total_j: synaptic energy of the whole batch, joules
    :type total_j: float
    :param per_image_j: ``total_j / batch_size``, joules
    :type per_image_j: float
    :param macs: network total of MACs (paper convention: multiplications)
    :type macs: int or float
    :param acs: network total of ACs (paper convention: additions)
    :type acs: int or float
    :param firing_rates: firing rate of each spiking neuron, by module name
    :type firing_rates: dict(str, float)
    :param neuron_ops: neuron-internal and elementwise operations, MAC-equivalents
        plus ACs, whole batch (not in ``total_j``)
    :type neuron_ops: int or float
    :param neuron_energy_j: their energy, joules, whole batch (not in ``total_j``)
    :type neuron_energy_j: float
    :param convention: ``"spike-driven"`` or ``"paper"``
    :type convention: str
    :param batch_size: inputs in the measured run
    :type batch_size: int
    :param e_mac: joules per MAC. Defaults to :data:`E_MAC` (4.6 pJ)
    :type e_mac: float, optional
    :param e_ac: joules per AC. Defaults to :data:`E_AC` (0.9 pJ)
    :type e_ac: float, optional
    :param mean_rate: the network's mean firing rate. Defaults to None (no spiking
        neurons)
    :type mean_rate: float, optional
    :param neuron_updates: membrane updates of all spiking neurons, whole batch.
        Defaults to 0
    :type neuron_updates: int, optional
    :param mult_layers: paper convention: the layers billed as multiplications.
        Defaults to an empty list
    :type mult_layers: list(str), optional
    :param neuron_rows: one :class:`NeuronEnergy` per module doing elementwise
        work. Defaults to an empty list
    :type neuron_rows: list(NeuronEnergy), optional
    :param neuron_macs: their MAC-equivalents, whole batch. Defaults to 0
    :type neuron_macs: float, optional
    :param neuron_acs: their ACs, whole batch. Defaults to 0
    :type neuron_acs: float, optional
    :param neuron_per_image_j: ``neuron_energy_j / batch_size``. Defaults to 0
    :type neuron_per_image_j: float, optional
    :param total_with_neurons_j: ``total_j + neuron_energy_j``. Defaults to 0
    :type total_with_neurons_j: float, optional
    :param per_image_with_neurons_j: ``total_with_neurons_j / batch_size``.
        Defaults to 0
    :type per_image_with_neurons_j: float, optional
    :param trig_macs: MAC-equivalents priced per sine or cosine. Defaults to
        :data:`TRIG_MACS` (10)
    :type trig_macs: float, optional
    :param fold_batchnorm: whether batch norms were priced as folded (free).
        Defaults to True
    :type fold_batchnorm: bool, optional
    """

    rows: List[LayerEnergy]
    total_j: float
    per_image_j: float
    macs: float
    acs: float
    firing_rates: Dict[str, float]
    neuron_ops: float
    neuron_energy_j: float
    convention: str
    batch_size: int
    e_mac: float = E_MAC
    e_ac: float = E_AC
    mean_rate: Optional[float] = None
    neuron_updates: int = 0
    mult_layers: List[str] = field(default_factory=list)
    neuron_rows: List[NeuronEnergy] = field(default_factory=list)
    neuron_macs: float = 0
    neuron_acs: float = 0
    neuron_per_image_j: float = 0.0
    total_with_neurons_j: float = 0.0
    per_image_with_neurons_j: float = 0.0
    trig_macs: float = TRIG_MACS
    fold_batchnorm: bool = True

    # -- conversions --------------------------------------------------------

    def to_dict(self) -> Dict[str, Any]:
        """A JSON-serialisable dict of every field (rows as dicts).

        :func:`json.dumps` of it works, and :meth:`from_dict` rebuilds the report.
        """
        d = dataclasses.asdict(self)
        d["firing_rates"] = {str(k): float(v) for k, v in self.firing_rates.items()}
        return d

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "EnergyReport":
        """Rebuild a report from :meth:`to_dict` (e.g. after a JSON round trip).

        Reports written before the neuron-internal fields existed load with the
        per-input and total figures recomputed.

        :param data: a dict made by :meth:`to_dict`; unknown keys are ignored
        :type data: dict
        :rtype: EnergyReport
        """
        data = dict(data)
        data["rows"] = [LayerEnergy(**row) for row in data.get("rows", [])]
        data["neuron_rows"] = [NeuronEnergy(**row) for row in data.get("neuron_rows", [])]
        if "total_with_neurons_j" not in data:
            batch = max(int(data.get("batch_size", 1)), 1)
            neuron = float(data.get("neuron_energy_j", 0.0))
            data["neuron_per_image_j"] = neuron / batch
            data["total_with_neurons_j"] = float(data.get("total_j", 0.0)) + neuron
            data["per_image_with_neurons_j"] = data["total_with_neurons_j"] / batch
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    def to_json(self, **kwargs) -> str:
        """:meth:`to_dict` as a JSON string.

        :param kwargs: keywords of :func:`json.dumps` (e.g. ``indent=2``)
        :rtype: str
        """
        return json.dumps(self.to_dict(), **kwargs)

    # -- display (see snntorch_ms.energy.display) ---------------------------

    def header(self) -> str:
        """The one-paragraph description of the convention used, as printed atop
        :meth:`as_table`."""
        return display.report_header(self)

    def as_table(self) -> str:
        """A fixed-width text table (:func:`~snntorch_ms.energy.format_report`)."""
        return display.format_report(self)

    def __str__(self) -> str:
        return self.as_table()

    def plot(self, path, title: Optional[str] = None):
        """Save :func:`~snntorch_ms.energy.plot_energy` of this report alone and
        return the figure.

        :param path: file to write (any format matplotlib infers from the suffix)
        :type path: str or os.PathLike
        :param title: figure title. Defaults to None (names the convention)
        :type title: str, optional
        :rtype: matplotlib.figure.Figure
        """
        return display.plot_energy(self, path, title)


def measure_energy(
    model: nn.Module,
    inputs,
    convention: str = "spike-driven",
    e_mac: float = E_MAC,
    e_ac: float = E_AC,
    *,
    batch_size: Optional[int] = None,
    paper_mult_layers: Optional[Iterable[str]] = None,
    trig_macs: float = TRIG_MACS,
    fold_batchnorm: bool = True,
) -> EnergyReport:
    r"""Run ``model(inputs)`` once and report its synaptic operations, firing rates,
    neuron-internal work and energy.

    .. math::

        E_{\rm syn} = E_{MAC}\,N_{MAC} + E_{AC}\,N_{AC}, \qquad
        E_{\rm per\,input} = E_{\rm syn} / B

    :func:`~snntorch_ms.energy.count_operations` counts;
    :func:`~snntorch_ms.energy.spike_driven_cost` (default) or
    :func:`~snntorch_ms.energy.paper_cost` prices each synaptic layer;
    :func:`~snntorch_ms.energy.neuron_cost` prices the elementwise work, reported
    apart. The model runs under :func:`torch.no_grad`, its mode unchanged (call
    ``model.eval()`` first for inference figures, and reset stateful neurons if
    the model does not do it itself).

    :param model: the network
    :type model: torch.nn.Module
    :param inputs: a tensor (called as ``model(inputs)``), a tuple or list
        (``model(*inputs)``) or a dict (``model(**inputs)``)
    :type inputs: torch.Tensor, tuple, list or dict
    :param convention: ``"spike-driven"`` or ``"paper"``. Defaults to ``"spike-driven"``
    :type convention: str, optional
    :param e_mac: joules per MAC (paper convention: per multiplication). Defaults to
        :data:`E_MAC` (4.6 pJ)
    :type e_mac: float, optional
    :param e_ac: joules per AC (paper convention: per addition). Defaults to
        :data:`E_AC` (0.9 pJ)
    :type e_ac: float, optional
    :param batch_size: inputs per run for the per-input figures. Defaults to None
        (the first dimension of the (first) input tensor); pass it for time-major inputs
    :type batch_size: int, optional
    :param paper_mult_layers: paper convention only: module names billed as
        multiplications, instead of the first layer and the final classifier.
        Defaults to None
    :type paper_mult_layers: iterable of str, optional
    :param trig_macs: MAC-equivalents of a sine or cosine. Defaults to
        :data:`TRIG_MACS` (10)
    :type trig_macs: float, optional
    :param fold_batchnorm: price batch norms as folded into the preceding layer
        (free), on both sides. Defaults to True
    :type fold_batchnorm: bool, optional
    :returns: the report
    :rtype: EnergyReport
    :raises ValueError: on an unknown ``convention``, or ``paper_mult_layers``
        naming no called synaptic layer

    Example::

        >>> import torch, snntorch as snn
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Linear(2, 4, bias=False), snn.Leaky(beta=0.5, init_hidden=True),
        ...                     nn.Linear(4, 3))
        >>> with torch.no_grad():
        ...     _ = net[0].weight.copy_(torch.tensor([[1.0, 0], [0, 1], [2, 0], [0, 0]]))
        >>> r = measure_energy(net, torch.tensor([[1.5, 0.5]]))
        >>> r.firing_rates
        {'1': 0.5}
        >>> [(row.name, row.macs, row.acs) for row in r.rows]
        [('0', 8, 0), ('2', 0, 6)]
        >>> p = measure_energy(net, torch.tensor([[1.5, 0.5]]), convention="paper")
        >>> [(row.name, row.macs, row.acs) for row in p.rows]
        [('0', 8, 4.0), ('2', 12, 6.0)]
    """
    convention = resolve_convention(convention)
    counts = count_operations(model, inputs, batch_size=batch_size)
    batch = max(counts.batch_size, 1)
    mean_rate = counts.mean_rate

    rows: List[LayerEnergy] = []
    mult_layers: List[str] = []
    if convention == "paper":
        mult_layers = paper_multiplied_layers(
            counts.layers, None if paper_mult_layers is None else list(paper_mult_layers))
        if mean_rate is None:
            mult_layers = [s.name for s in counts.layers]
    for s in counts.layers:
        if convention == "paper":
            macs, acs = paper_cost(s, mean_rate, s.name in mult_layers)
        else:
            macs, acs = spike_driven_cost(s)
        rows.append(LayerEnergy(s.name, s.kind, s.calls, s.ops, macs, acs, s.input_rate,
                                joules(macs, acs, e_mac, e_ac), s.binary_calls))

    neuron_rows: List[NeuronEnergy] = []
    for n in counts.neurons:
        macs, acs = neuron_cost(n, trig_macs, fold_batchnorm)
        neuron_rows.append(NeuronEnergy(n.name, n.kind, n.calls, n.updates, n.sines, n.cosines,
                                        macs, acs, joules(macs, acs, e_mac, e_ac), n.projection))

    total_j = float(sum(r.energy_j for r in rows))
    neuron_j = float(sum(r.energy_j for r in neuron_rows))
    neuron_macs = sum(r.macs for r in neuron_rows)
    neuron_acs = sum(r.acs for r in neuron_rows)
    return EnergyReport(
        rows=rows,
        total_j=total_j,
        per_image_j=total_j / batch,
        macs=sum(r.macs for r in rows),
        acs=sum(r.acs for r in rows),
        firing_rates=counts.firing_rates,
        neuron_ops=neuron_macs + neuron_acs,
        neuron_energy_j=neuron_j,
        convention=convention,
        batch_size=counts.batch_size,
        e_mac=e_mac,
        e_ac=e_ac,
        mean_rate=mean_rate,
        neuron_updates=counts.neuron_updates,
        mult_layers=mult_layers,
        neuron_rows=neuron_rows,
        neuron_macs=neuron_macs,
        neuron_acs=neuron_acs,
        neuron_per_image_j=neuron_j / batch,
        total_with_neurons_j=total_j + neuron_j,
        per_image_with_neurons_j=(total_j + neuron_j) / batch,
        trig_macs=trig_macs,
        fold_batchnorm=fold_batchnorm,
    )


def energy_ratio(report: EnergyReport, baseline: EnergyReport,
                 with_neurons: bool = False) -> float:
    r"""How many times less energy per input ``report`` needs than ``baseline``
    (typically the ANN twin):

    .. math::

        \rho = \frac{E^{\rm baseline}_{\rm per\,input}}{E^{\rm report}_{\rm per\,input}}

    synaptic energy by default, neuron-internal and elementwise work included
    with ``with_neurons=True``. Both reports must use the same convention and
    prices (else ValueError). Returns ``inf`` when ``report`` costs nothing.

    Example::

        >>> import torch
        >>> from torch import nn
        >>> net = nn.Linear(4, 3)
        >>> snn_r = measure_energy(net, torch.tensor([[1.0, 0.0, 1.0, 0.0]]))  # 6 ACs
        >>> ann_r = measure_energy(net, torch.tensor([[0.1, 0.2, 0.3, 0.4]]))  # 12 MACs
        >>> round(energy_ratio(snn_r, ann_r), 4)   # 12 x 4.6 / (6 x 0.9)
        10.2222

    :param report: the network measured (e.g. the SNN)
    :type report: EnergyReport
    :param baseline: the reference (e.g. the ANN twin)
    :type baseline: EnergyReport
    :param with_neurons: include the neuron-internal work. Defaults to False
    :type with_neurons: bool, optional
    :return: :math:`\rho` (``inf`` when ``report`` costs nothing)
    :rtype: float
    :raises ValueError: for reports of different conventions or prices
    """
    _check_comparable(report, baseline, with_neurons)
    key = "per_image_with_neurons_j" if with_neurons else "per_image_j"
    mine, theirs = getattr(report, key), getattr(baseline, key)
    if mine == 0:
        return math.inf
    return theirs / mine


def compare(report: EnergyReport, ann_report: EnergyReport) -> Dict[str, Any]:
    """Side-by-side summary of a spiking network and its ANN twin, per input.

    Returns ``{"convention", "snn_per_image_j", "ann_per_image_j", "ratio",
    "snn_macs", "snn_acs", "ann_macs", "ann_acs", "mean_rate",
    "snn_neuron_per_image_j", "ann_neuron_per_image_j",
    "snn_total_per_image_j", "ann_total_per_image_j", "ratio_with_neurons"}``:
    ``ratio`` is :func:`energy_ratio` of the synaptic energy (ANN / SNN),
    ``ratio_with_neurons`` that of the totals including the neuron-internal and
    elementwise work; operation counts are per input.

    Example::

        >>> import torch
        >>> from torch import nn
        >>> net = nn.Linear(4, 3)
        >>> snn_r = measure_energy(net, torch.tensor([[1.0, 0.0, 1.0, 0.0]]))  # 6 ACs
        >>> ann_r = measure_energy(net, torch.tensor([[0.1, 0.2, 0.3, 0.4]]))  # 12 MACs
        >>> c = compare(snn_r, ann_r)
        >>> c["snn_acs"], c["ann_macs"], round(c["ratio"], 4)
        (6.0, 12.0, 10.2222)

    :param report: the spiking network's report
    :type report: EnergyReport
    :param ann_report: the ANN twin's report, same convention and prices
    :type ann_report: EnergyReport
    :return: the summary
    :rtype: dict
    :raises ValueError: for reports of different conventions or prices
    """
    ratio = energy_ratio(report, ann_report)
    sb, ab = max(report.batch_size, 1), max(ann_report.batch_size, 1)
    return {
        "convention": report.convention,
        "snn_per_image_j": report.per_image_j,
        "ann_per_image_j": ann_report.per_image_j,
        "ratio": ratio,
        "snn_macs": report.macs / sb,
        "snn_acs": report.acs / sb,
        "ann_macs": ann_report.macs / ab,
        "ann_acs": ann_report.acs / ab,
        "mean_rate": report.mean_rate,
        "snn_neuron_per_image_j": report.neuron_per_image_j,
        "ann_neuron_per_image_j": ann_report.neuron_per_image_j,
        "snn_total_per_image_j": report.per_image_with_neurons_j,
        "ann_total_per_image_j": ann_report.per_image_with_neurons_j,
        "ratio_with_neurons": energy_ratio(report, ann_report, with_neurons=True),
    }


def _check_comparable(a: EnergyReport, b: EnergyReport, with_neurons: bool = False) -> None:
    if a.convention != b.convention:
        raise ValueError(
            f"cannot compare an energy report in the {a.convention!r} convention with one "
            f"in the {b.convention!r} convention: measure both the same way"
        )
    if not (math.isclose(a.e_mac, b.e_mac) and math.isclose(a.e_ac, b.e_ac)):
        raise ValueError("cannot compare energy reports priced with different e_mac / e_ac")
    if with_neurons and (not math.isclose(a.trig_macs, b.trig_macs)
                         or a.fold_batchnorm != b.fold_batchnorm):
        raise ValueError("cannot compare neuron-internal energy priced with different "
                         "trig_macs / fold_batchnorm")


def plot_energy(result, path, title=None):
    """``snntorch_ms.energy.display.plot_energy``, also for saved reports: a
    report's :meth:`EnergyReport.to_dict` (or a dict holding them under
    ``"report"`` / ``"ann_report"``, as ``metrics.json`` does) is read back first.

    Example::

        >>> import os, tempfile, torch
        >>> from torch import nn
        >>> rep = measure_energy(nn.Sequential(nn.Linear(4, 3)), torch.rand(2, 4))
        >>> path = os.path.join(tempfile.mkdtemp(), "e.png")
        >>> _ = plot_energy(rep.to_dict(), path)
        >>> os.path.getsize(path) > 0
        True
    """
    def as_report(value):
        return EnergyReport.from_dict(value) if isinstance(value, dict) else value

    if isinstance(result, dict) and "report" in result:
        result = dict(result, report=as_report(result["report"]),
                      ann_report=as_report(result.get("ann_report")))
    else:
        result = as_report(result)
    return display.plot_energy(result, path, title)
