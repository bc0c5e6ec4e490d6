"""Display: the energy report as text and as a figure, and the one joule formatter.

* :func:`format_joules`: a value in joules with its unit (J, mJ, µJ, nJ, pJ, fJ);
* :func:`format_report`: the fixed-width table of an
  :class:`~snntorch_ms.energy.EnergyReport` (``report.as_table()``), per layer,
  then the neuron-internal work **per input** beside the synaptic energy per
  input, and the total per input with it included;
* ``plot_energy``: the figure, of one report or of a spiking network beside
  its ANN twin (the dict :func:`snntorch_ms.train.measure_model_energy` returns).

Example::

    >>> format_joules(1.2346e-6), format_joules(0.0), format_joules(5.5e-12)
    ('1.235 µJ', '0 J', '5.5 pJ')
"""

from __future__ import annotations

import textwrap
from typing import Any, Dict, List, Optional, Tuple, Union

__all__ = ["format_joules", "format_report", "plot_energy"]

_UNITS = (("J", 1.0), ("mJ", 1e-3), ("µJ", 1e-6), ("nJ", 1e-9), ("pJ", 1e-12))


def format_joules(value: float, digits: int = 4) -> str:
    """A value in joules with the largest unit that keeps it at or above 1:
    J, mJ, µJ, nJ, pJ, else fJ.

    Example::

        >>> format_joules(68.89e-6), format_joules(-2e-3), format_joules(3e-16)
        ('68.89 µJ', '-2 mJ', '0.3 fJ')

    :param value: joules
    :type value: float
    :param digits: significant digits. Defaults to 4
    :type digits: int, optional
    :rtype: str
    """
    value = float(value)
    if value == 0:
        return "0 J"
    for unit, scale in _UNITS:
        if abs(value) >= scale:
            return f"{value / scale:.{digits}g} {unit}"
    return f"{value / 1e-15:.{digits}g} fJ"


def report_header(report) -> str:
    """The one-paragraph description of the convention of ``report``."""
    prices = f"E_MAC = {report.e_mac * 1e12:.3g} pJ, E_AC = {report.e_ac * 1e12:.3g} pJ"
    if report.convention == "paper":
        if report.mean_rate is None:
            how = ("no spiking neurons (ANN): every operation billed as one addition and "
                   "one multiplication, E_MAC + E_AC each")
        else:
            how = (f"every operation billed as additions at the mean spike rate s = "
                   f"{report.mean_rate:.4f} (x E_AC), plus multiplications (x E_MAC) for "
                   f"{', '.join(report.mult_layers) or 'no layer'}; an ANN op costs "
                   "E_MAC + E_AC")
        return (
            "Energy report -- PAPER convention (Yao et al., ACML 2023, Table 2): "
            f"{how}. {prices}. MACs column = multiplications, ACs column = additions. "
            "(The paper's Table 2 prints J / mJ where its arithmetic gives mJ / µJ.)"
        )
    return (
        "Energy report -- spike-driven convention: a layer call on a binary (spike) input "
        "is one AC per spike event and fan-out; on a real-valued input every "
        f"operation is a MAC; recurrent layers are MACs. {prices}."
    )


def format_report(report) -> str:
    """A fixed-width text table of an :class:`~snntorch_ms.energy.EnergyReport`:
    one line per synaptic layer (whole batch) and the totals; the energy per
    input; the neuron-internal and elementwise work per module and in all, **per
    input**; the total per input including it; the firing rates.

    Example::

        >>> import torch
        >>> from torch import nn
        >>> from snntorch_ms.energy import measure_energy
        >>> x = torch.tensor([[0.1, 0.2, 0.3, 0.4], [0.4, 0.3, 0.2, 0.1]])   # real-valued
        >>> r = measure_energy(nn.Sequential(nn.Linear(4, 3), nn.ReLU()), x)
        >>> print(format_report(r).splitlines()[-4])
        synaptic energy per input: 55.2 pJ
        >>> print(format_report(r).splitlines()[-1])
        no spiking neurons

    :param report: the report
    :type report: EnergyReport
    :rtype: str
    """
    batch = max(int(report.batch_size), 1)
    lines = textwrap.wrap(report_header(report), 96)
    lines.append("")
    name_w = max([len("layer")] + [len(r.name) for r in report.rows] + [len("total")])
    name_w = min(name_w, 40)
    head = (f"{'layer':<{name_w}}  {'kind':<6} {'calls':>5} {'ops':>12} {'MACs':>12} "
            f"{'ACs':>12} {'in-rate':>7} {'energy':>10}")
    lines += [head, "-" * len(head)]
    for r in report.rows:
        lines.append(
            f"{_clip(r.name, name_w):<{name_w}}  {r.kind:<6} {r.calls:>5} {_fmt_n(r.ops):>12} "
            f"{_fmt_n(r.macs):>12} {_fmt_n(r.acs):>12} {r.input_rate:>7.3f} "
            f"{format_joules(r.energy_j):>10}"
        )
    lines.append("-" * len(head))
    ops = sum(r.ops for r in report.rows)
    lines.append(
        f"{'total':<{name_w}}  {'':<6} {'':>5} {_fmt_n(ops):>12} {_fmt_n(report.macs):>12} "
        f"{_fmt_n(report.acs):>12} {'':>7} {format_joules(report.total_j):>10}"
    )
    lines.append(f"batch size {report.batch_size} (the rows above are for the whole batch)")
    neuron_rows = list(getattr(report, "neuron_rows", []) or [])
    if neuron_rows:
        lines.append("")
        lines += textwrap.wrap(
            "neuron-internal and elementwise work, per input (apart from the synaptic total; "
            f"a sine or cosine = {_fmt_n(report.trig_macs)} MAC-equivalents, batch norm "
            f"{'folded' if report.fold_batchnorm else 'not folded'}):", 96)
        nw = min(max([len("module")] + [len(n.name) for n in neuron_rows]), 40)
        nhead = (f"{'module':<{nw}}  {'kind':<9} {'updates':>10} {'sin':>9} {'cos':>9} "
                 f"{'MACs':>10} {'ACs':>10} {'energy':>10}")
        lines += [nhead, "-" * len(nhead)]
        for n in neuron_rows:
            lines.append(
                f"{_clip(n.name, nw):<{nw}}  {n.kind:<9} {_fmt_n(n.updates / batch):>10} "
                f"{_fmt_n(n.sines / batch):>9} {_fmt_n(n.cosines / batch):>9} "
                f"{_fmt_n(n.macs / batch):>10} {_fmt_n(n.acs / batch):>10} "
                f"{format_joules(n.energy_j / batch):>10}")
        lines.append("-" * len(nhead))
    lines.append(f"synaptic energy per input: {format_joules(report.per_image_j)}")
    lines.append(
        f"neuron-internal work per input: {_fmt_n(report.neuron_ops / batch)} ops over "
        f"{_fmt_n(report.neuron_updates / batch)} neuron updates, "
        f"{format_joules(report.neuron_energy_j / batch)}")
    lines.append("total per input, neuron-internal work included: "
                 f"{format_joules((report.total_j + report.neuron_energy_j) / batch)}")
    if report.firing_rates:
        lines.append("")
        mean = "n/a" if report.mean_rate is None else f"{report.mean_rate:.4f}"
        lines.append(f"firing rates (mean over all neuron outputs: {mean})")
        rate_w = min(max(len(n) for n in report.firing_rates), 60)
        for name, rate in report.firing_rates.items():
            lines.append(f"  {_clip(name, rate_w):<{rate_w}}  {rate:.4f}")
    else:
        lines.append("no spiking neurons")
    return "\n".join(lines)


def plot_energy(result: Union[Dict[str, Any], Any], path, title: Optional[str] = None):
    """Save a figure of an energy measurement and return it: the firing rate of
    every spiking layer (top), and the energy per input of every synaptic layer,
    then of the neuron-internal work, split into its MAC and AC parts (bottom);
    beside each, the ANN twin's when there is one. Uses matplotlib's Agg
    renderer without touching pyplot's global backend.

    ``result`` is an :class:`~snntorch_ms.energy.EnergyReport`, or the dict that
    :func:`snntorch_ms.train.measure_model_energy` returns (``"report"`` and
    ``"ann_report"``); :func:`snntorch_ms.energy.plot_energy` also takes their
    saved dicts (:meth:`~snntorch_ms.energy.EnergyReport.to_dict`). Per-input figures divide by each
    report's own ``batch_size``.

    Example::

        >>> import os, tempfile, torch
        >>> from torch import nn
        >>> from snntorch_ms.energy import measure_energy
        >>> net = nn.Linear(4, 3)
        >>> result = {"report": measure_energy(net, (torch.rand(2, 4) < 0.5).float()),
        ...           "ann_report": measure_energy(net, torch.rand(2, 4))}
        >>> path = os.path.join(tempfile.mkdtemp(), "energy.png")
        >>> _ = plot_energy(result, path, "linear layer")
        >>> os.path.getsize(path) > 1000
        True

    :param result: a report, its dict, or ``measure_model_energy``'s dict
    :type result: EnergyReport or dict
    :param path: file to write (any format matplotlib infers from the suffix)
    :type path: str or os.PathLike
    :param title: figure title. Defaults to None (names the convention)
    :type title: str, optional
    :return: the figure
    :rtype: matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure

    snn, ann = _reports(result)
    names = [r.name for r in snn.rows]
    if ann is not None:
        names += [r.name for r in ann.rows if r.name not in names]
    rates = snn.firing_rates
    n = max(len(names) + 1, len(rates), 1)
    fig = Figure(figsize=(max(6.0, 0.5 * n + 3.0), 8.0))
    ax1, ax2 = fig.subplots(2, 1)

    rate_names = list(rates)
    ax1.bar(range(len(rate_names)), [rates[k] for k in rate_names], color="tab:orange")
    ax1.set_xticks(range(len(rate_names)))
    ax1.set_xticklabels(rate_names, rotation=60, ha="right", fontsize=7)
    ax1.set_ylabel("firing rate")
    ax1.set_ylim(0, 1)
    ax1.set_title("firing rate per spiking layer" if rate_names else "no spiking neurons")
    ax1.grid(axis="y", alpha=0.3)

    paper = snn.convention == "paper"
    mac_label, ac_label = ("multiplications", "additions") if paper else ("MAC", "AC")
    labels = names + ["neuron-internal"]
    xs = list(range(len(labels)))
    width = 0.4 if ann is not None else 0.8
    shift = -0.2 if ann is not None else 0.0
    for k, (rep, tag) in enumerate(((snn, "SNN"), (ann, "ANN twin"))):
        if rep is None:
            continue
        mac, ac = _parts(rep, names)
        pos = [x + shift + k * 0.4 for x in xs]
        colour = ("tab:blue", "tab:green") if k == 0 else ("tab:gray", "silver")
        label = "" if ann is None else f"{tag}: "
        ax2.bar(pos, mac, width, color=colour[0], label=f"{label}{mac_label}")
        ax2.bar(pos, ac, width, bottom=mac, color=colour[1], label=f"{label}{ac_label}")
    ax2.set_xticks(xs)
    ax2.set_xticklabels(labels, rotation=60, ha="right", fontsize=7)
    ax2.set_ylabel("energy per input (µJ)")
    summary = (f"synaptic {format_joules(snn.per_image_j)} + neuron-internal "
               f"{format_joules(snn.neuron_per_image_j)} = "
               f"{format_joules(snn.per_image_with_neurons_j)} per input")
    if ann is not None:
        summary += (f"\nANN twin: {format_joules(ann.per_image_j)} + "
                    f"{format_joules(ann.neuron_per_image_j)} = "
                    f"{format_joules(ann.per_image_with_neurons_j)}")
    ax2.set_title(summary, fontsize=9)
    ax2.legend(fontsize=7)
    ax2.grid(axis="y", alpha=0.3)
    fig.suptitle(title or f"energy ({snn.convention} convention)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return fig


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


def _reports(result) -> Tuple[Any, Optional[Any]]:
    # report objects only: turning saved dicts into reports is the report module's
    # job (snntorch_ms.energy.plot_energy), so that display imports nothing of it
    if isinstance(result, dict) and "report" in result:
        return result["report"], result.get("ann_report")
    return result, None


def _parts(report, names: List[str]) -> Tuple[List[float], List[float]]:
    """MAC and AC energy per input (µJ) of each named layer, then of the neuron work."""
    scale = 1e6 / max(int(report.batch_size), 1)
    by_name = {r.name: r for r in report.rows}
    mac = [by_name[n].macs * report.e_mac * scale if n in by_name else 0.0 for n in names]
    ac = [by_name[n].acs * report.e_ac * scale if n in by_name else 0.0 for n in names]
    mac.append(report.neuron_macs * report.e_mac * scale)
    ac.append(report.neuron_acs * report.e_ac * scale)
    return mac, ac


def _fmt_n(value) -> str:
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.4g}" if abs(value) < 1e5 else f"{value:.4e}"
    value = int(value)
    return str(value) if abs(value) < 10**9 else f"{value:.4e}"


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else "..." + text[-(width - 3):]
