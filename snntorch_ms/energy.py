r"""Operation counting and energy estimates for spiking and non-spiking networks.

:func:`measure_energy` runs a network once on real inputs, counts the synaptic
operations of every convolution, linear and recurrent (LSTM, GRU, RNN) layer as
it is called, records the firing rate of every spiking neuron, and prices the
operations in joules with the 45 nm figures of Horowitz (ISSCC 2014):
:math:`E_{MAC} = 4.6` pJ for a 32-bit floating-point multiply-accumulate and
:math:`E_{AC} = 0.9` pJ for a 32-bit floating-point addition (accumulate).

Two conventions are available.

``convention="honest"`` (default)
    Each call of a layer is billed from the tensor it actually received. If that
    tensor is *binary* (all its values are 0 or one common value :math:`v`: 0/1
    spikes, or graded spikes of a single magnitude), every operation whose input
    is non-zero is one accumulate (AC) and operations on zeros cost nothing;
    otherwise (real-valued input: images, real-valued MLPs and residual sums,
    ``condense="mean"`` spikes, ...) every operation is a multiply-accumulate
    (MAC). Recurrent layers (LSTM, GRU, RNN) are always MACs: their recurrent
    state is real-valued. The test looks at the whole tensor of a call (the
    batch), so measure on a batch of realistic size: a real-valued tensor whose
    non-zero values happen to be equal (say, a single non-zero) cannot be told
    from spikes.

    .. math::

        E = E_{MAC}\,N_{MAC} + E_{AC}\,N_{AC}

``convention="paper"``
    The convention of Yao et al. (ACML 2023), Table 2. Every synaptic operation of
    the network is billed as additions at the network's mean spike rate
    :math:`s` (all spikes over all neuron updates of all spiking layers), and the
    operations of the first synaptic layer and of the final classifier
    (the last layer called, when it is a :class:`~torch.nn.Linear`) are billed
    again as multiplications:

    .. math::

        E = E_{AC}\, s \sum_l N_l + E_{MAC} \sum_{l \in \{\text{first}, \text{classifier}\}} N_l

    (the paper writes :math:`s \cdot T \cdot \#OP_{ANN}`; our counts already
    include every time step the network runs). A network without spiking neurons
    (an ANN) pays one addition and one multiplication for every operation,
    i.e. :math:`E_{MAC} + E_{AC} = 5.5` pJ per MAC: the paper's ANN row.
    Horowitz's 4.6 pJ already *is* a MAC (3.7 pJ multiply + 0.9 pJ add), so this
    convention bills the ANN about 20 % more than the honest one. Note also that
    the paper's Table 2 prints "J" and "mJ" where its own arithmetic gives mJ
    and uJ (247 M MACs x 5.5 pJ = 1.36 mJ, printed "1.35 J"; 132 M additions x
    0.9 pJ + 2.14 M multiplications x 4.6 pJ = 128.6 uJ, printed "128 mJ").

Operation counts, per call of a layer (``ops`` in the report):

* convolution (:class:`~torch.nn.Conv1d`, ``Conv2d``, ``Conv3d``):
  :math:`N = |\text{output}| \cdot \frac{C_{in}}{\text{groups}} \cdot \prod k`,
  output elements times the kernel taps feeding each (padded taps included, the
  usual convention). With a binary input the AC count is exact: the number of
  (output element, kernel tap) pairs whose input element is non-zero, computed by
  convolving the input's non-zero mask with a kernel of ones (padding, stride,
  dilation, groups and padding mode respected).
* linear: :math:`N = F_{out} \cdot F_{in} \cdot \text{rows}`, rows = all leading
  dimensions of the input; with a binary input, :math:`N_{AC} = F_{out} \cdot
  \#\text{non-zero inputs}` (exact).
* LSTM: per token, layer and direction, :math:`4 H (I + H)` MACs for the four
  gates' matrix products (input-to-hidden and hidden-to-hidden), :math:`I` being
  the layer's input size (``input_size`` for the first layer, :math:`H \times`
  directions above) and :math:`H` the hidden size; GRU :math:`3 H (I + H)`; plain
  RNN :math:`H (I + H)`. With ``proj_size`` :math:`P > 0` the recurrent term uses
  :math:`P` and the projection adds :math:`H P`. Gate non-linearities and the
  elementwise cell update are not counted (nor are biases anywhere).

Not counted: biases, normalisation, pooling, activations, attention computed with
functional calls (:func:`torch.nn.functional.linear`, ``matmul``,
:class:`~torch.nn.MultiheadAttention`'s fused path) and transposed convolutions.

Neuron-internal work is counted apart and is **not** in the headline total, as in
the literature: each neuron update (one output element of a spiking layer per
call) is :data:`NEURON_MACS_PER_UPDATE` MAC (leak times membrane plus input) and
:data:`NEURON_ACS_PER_UPDATE` ACs (reset subtraction, threshold comparison);
ProjLeaky's projection (a sine and a cosine) is not priced. See
``neuron_ops`` and ``neuron_energy_j``.

Firing rates: for every spiking neuron module (any subclass of snntorch's
``SpikingNeuron``, so :class:`snntorch.Leaky` and
:class:`~snntorch_ms.ProjLeaky`), the fraction of non-zero elements of its spike
output (the first element of its return value when that is a tuple) over all its
calls; for 0/1 spikes this is the mean spike output.

The network is run once under :func:`torch.no_grad` with forward hooks that are
removed afterwards (also when the forward raises). The model's mode is not
changed: call ``model.eval()`` first for inference figures, and reset stateful
neurons if the model does not do it itself.

Example::

    >>> import torch
    >>> from torch import nn
    >>> from snntorch_ms.energy import measure_energy
    >>> _ = torch.manual_seed(0)
    >>> net = nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 2))
    >>> report = measure_energy(net, torch.tensor([[0.1, 0.2, 0.3, 0.4]]))
    >>> report.macs, report.acs
    (18, 0)
    >>> round(report.total_j * 1e12, 6)   # picojoules: 18 x 4.6
    82.8
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Sequence

import torch
import torch.nn.functional as F
from snntorch._neurons.neurons import SpikingNeuron
from torch import nn

__all__ = [
    "CONVENTIONS",
    "E_MAC",
    "E_AC",
    "NEURON_MACS_PER_UPDATE",
    "NEURON_ACS_PER_UPDATE",
    "LayerEnergy",
    "EnergyReport",
    "measure_energy",
    "energy_ratio",
    "compare",
]

#: Conventions understood by :func:`measure_energy`.
CONVENTIONS = ("honest", "paper")

#: Energy of one 32-bit floating-point multiply-accumulate, 45 nm (Horowitz 2014), joules.
E_MAC = 4.6e-12
#: Energy of one 32-bit floating-point addition (accumulate), 45 nm (Horowitz 2014), joules.
E_AC = 0.9e-12

#: MACs per neuron update counted in ``neuron_ops`` (leak x membrane + input).
NEURON_MACS_PER_UPDATE = 1
#: ACs per neuron update counted in ``neuron_ops`` (reset subtraction, threshold comparison).
NEURON_ACS_PER_UPDATE = 2

_CONV_FUNCS = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
_RNN_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


# ---------------------------------------------------------------------------
# report types
# ---------------------------------------------------------------------------


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
    :param ops: synaptic operations (dense count, see the module docs)
    :type ops: int
    :param macs: operations billed as MACs (in the paper convention: multiplications)
    :type macs: int or float
    :param acs: operations billed as ACs (in the paper convention: additions)
    :type acs: int or float
    :param input_rate: fraction of non-zero input elements over all calls
    :type input_rate: float
    :param energy_j: :math:`E_{MAC} \cdot macs + E_{AC} \cdot acs`, joules, whole batch
    :type energy_j: float
    :param binary_calls: calls whose input was binary (billed as ACs, honest
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
class EnergyReport:
    r"""The result of :func:`measure_energy`.

    Energies are in joules for the whole batch (``total_j``) and per input
    (``per_image_j = total_j / batch_size``). ``macs`` and ``acs`` are network
    totals (multiplications and additions in the paper convention); ``neuron_ops``
    and ``neuron_energy_j`` are the neuron-internal work, **not** included in
    ``total_j``. ``firing_rates`` maps each spiking neuron's module name to its
    firing rate; ``mean_rate`` is the network's mean (all spikes over all neuron
    updates), None without spiking neurons.

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
    :param neuron_ops: neuron-internal operations (not in ``total_j``)
    :type neuron_ops: int
    :param neuron_energy_j: neuron-internal energy, joules (not in ``total_j``)
    :type neuron_energy_j: float
    :param convention: ``"honest"`` or ``"paper"``
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
    :param neuron_updates: neuron updates (output elements of all spiking layers
        over all calls). Defaults to 0
    :type neuron_updates: int, optional
    :param mult_layers: paper convention: the layers billed as multiplications.
        Defaults to an empty list
    :type mult_layers: list(str), optional
    """

    rows: List[LayerEnergy]
    total_j: float
    per_image_j: float
    macs: float
    acs: float
    firing_rates: Dict[str, float]
    neuron_ops: int
    neuron_energy_j: float
    convention: str
    batch_size: int
    e_mac: float = E_MAC
    e_ac: float = E_AC
    mean_rate: Optional[float] = None
    neuron_updates: int = 0
    mult_layers: List[str] = field(default_factory=list)

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

        :param data: a dict made by :meth:`to_dict`; unknown keys are ignored
        :type data: dict
        :rtype: EnergyReport
        """
        data = dict(data)
        data["rows"] = [LayerEnergy(**row) for row in data.get("rows", [])]
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    def to_json(self, **kwargs) -> str:
        """:meth:`to_dict` as a JSON string.

        :param kwargs: keywords of :func:`json.dumps` (e.g. ``indent=2``)
        :rtype: str
        """
        return json.dumps(self.to_dict(), **kwargs)

    # -- text ---------------------------------------------------------------

    def header(self) -> str:
        """The one-paragraph description of the convention used, as printed atop
        :meth:`as_table`."""
        prices = f"E_MAC = {self.e_mac * 1e12:.3g} pJ, E_AC = {self.e_ac * 1e12:.3g} pJ"
        if self.convention == "paper":
            if self.mean_rate is None:
                how = ("no spiking neurons (ANN): every operation billed as one addition and "
                       "one multiplication, E_MAC + E_AC each")
            else:
                how = (f"every operation billed as additions at the mean spike rate s = "
                       f"{self.mean_rate:.4f} (x E_AC), plus multiplications (x E_MAC) for "
                       f"{', '.join(self.mult_layers) or 'no layer'}; an ANN op costs "
                       "E_MAC + E_AC")
            return (
                "Energy report -- PAPER convention (Yao et al., ACML 2023, Table 2): "
                f"{how}. {prices}. MACs column = multiplications, ACs column = additions. "
                "(The paper's Table 2 prints J / mJ where its arithmetic gives mJ / uJ.)"
            )
        return (
            "Energy report -- honest convention: a layer call on a binary (spike) input "
            "is one AC per non-zero input and fan-out; on a real-valued input every "
            f"operation is a MAC; recurrent layers are MACs. {prices}."
        )

    def as_table(self) -> str:
        """A fixed-width text table: one line per synaptic layer, totals, the
        neuron-internal work (apart) and the firing rates."""
        lines = _wrap(self.header(), 96)
        lines.append("")
        name_w = max([len("layer")] + [len(r.name) for r in self.rows] + [len("total")])
        name_w = min(name_w, 40)
        head = (f"{'layer':<{name_w}}  {'kind':<6} {'calls':>5} {'ops':>12} {'MACs':>12} "
                f"{'ACs':>12} {'in-rate':>7} {'energy':>10}")
        lines.append(head)
        lines.append("-" * len(head))
        for r in self.rows:
            lines.append(
                f"{_clip(r.name, name_w):<{name_w}}  {r.kind:<6} {r.calls:>5} {_fmt_n(r.ops):>12} "
                f"{_fmt_n(r.macs):>12} {_fmt_n(r.acs):>12} {r.input_rate:>7.3f} "
                f"{_fmt_j(r.energy_j):>10}"
            )
        lines.append("-" * len(head))
        ops = sum(r.ops for r in self.rows)
        lines.append(
            f"{'total':<{name_w}}  {'':<6} {'':>5} {_fmt_n(ops):>12} {_fmt_n(self.macs):>12} "
            f"{_fmt_n(self.acs):>12} {'':>7} {_fmt_j(self.total_j):>10}"
        )
        lines.append(f"batch size {self.batch_size}; energy per input: {_fmt_j(self.per_image_j)}")
        lines.append(
            f"neuron-internal work (not in the total): {_fmt_n(self.neuron_ops)} ops over "
            f"{_fmt_n(self.neuron_updates)} neuron updates, {_fmt_j(self.neuron_energy_j)}"
        )
        if self.firing_rates:
            lines.append("")
            mean = "n/a" if self.mean_rate is None else f"{self.mean_rate:.4f}"
            lines.append(f"firing rates (mean over all neuron updates: {mean})")
            rate_w = min(max(len(n) for n in self.firing_rates), 60)
            for name, rate in self.firing_rates.items():
                lines.append(f"  {_clip(name, rate_w):<{rate_w}}  {rate:.4f}")
        else:
            lines.append("no spiking neurons")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.as_table()

    # -- plot ---------------------------------------------------------------

    def plot(self, path, title: Optional[str] = None):
        """Save a PNG with two bar charts: energy per layer (per input, MAC and AC
        parts stacked) and firing rate per spiking layer. Uses matplotlib's Agg
        renderer without touching pyplot's global backend. Returns the figure.

        :param path: file to write (any format matplotlib infers from the suffix)
        :type path: str or os.PathLike
        :param title: figure title. Defaults to None (names the convention)
        :type title: str, optional
        :return: the figure
        :rtype: matplotlib.figure.Figure
        """
        from matplotlib.figure import Figure

        n = max(len(self.rows), len(self.firing_rates), 1)
        fig = Figure(figsize=(max(6.0, 0.45 * n + 3.0), 8.0))
        ax1, ax2 = fig.subplots(2, 1)
        names = [r.name for r in self.rows]
        scale = 1e6 / max(self.batch_size, 1)
        mac_uj = [r.macs * self.e_mac * scale for r in self.rows]
        ac_uj = [r.acs * self.e_ac * scale for r in self.rows]
        xs = list(range(len(names)))
        mac_label, ac_label = ("multiplications", "additions") if self.convention == "paper" \
            else ("MAC", "AC")
        ax1.bar(xs, mac_uj, color="tab:blue", label=mac_label)
        ax1.bar(xs, ac_uj, bottom=mac_uj, color="tab:green", label=ac_label)
        ax1.set_xticks(xs)
        ax1.set_xticklabels(names, rotation=60, ha="right", fontsize=7)
        ax1.set_ylabel("energy per input (uJ)")
        ax1.set_title(f"synaptic energy per layer: {_fmt_j(self.per_image_j)} per input")
        ax1.legend()
        ax1.grid(axis="y", alpha=0.3)
        rate_names = list(self.firing_rates)
        ax2.bar(range(len(rate_names)), [self.firing_rates[k] for k in rate_names],
                color="tab:orange")
        ax2.set_xticks(range(len(rate_names)))
        ax2.set_xticklabels(rate_names, rotation=60, ha="right", fontsize=7)
        ax2.set_ylabel("firing rate")
        ax2.set_ylim(0, 1)
        ax2.set_title("firing rate per spiking layer" if rate_names else "no spiking neurons")
        ax2.grid(axis="y", alpha=0.3)
        fig.suptitle(title or f"energy ({self.convention} convention)")
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        return fig


# ---------------------------------------------------------------------------
# measurement
# ---------------------------------------------------------------------------


class _LayerStats:
    __slots__ = ("name", "kind", "calls", "ops", "ac_ops", "mac_ops", "nonzero", "numel",
                 "binary_calls", "order")

    def __init__(self, name, kind, order):
        self.name, self.kind, self.order = name, kind, order
        self.calls = self.ops = self.ac_ops = self.mac_ops = 0
        self.nonzero = self.numel = self.binary_calls = 0


class _NeuronStats:
    __slots__ = ("name", "spikes", "numel", "calls")

    def __init__(self, name):
        self.name = name
        self.spikes = self.numel = self.calls = 0


def _layer_kind(module: nn.Module) -> Optional[str]:
    if isinstance(module, nn.modules.conv._ConvNd) and not module.transposed:
        return f"conv{len(module.kernel_size)}d"
    if isinstance(module, nn.Linear):
        return "linear"
    if isinstance(module, nn.RNNBase) and module.mode in _RNN_GATES:
        return {"LSTM": "lstm", "GRU": "gru"}.get(module.mode, "rnn")
    return None


def _first_tensor(args, kwargs) -> Optional[torch.Tensor]:
    if args:
        return args[0]
    for key in ("input", "input_", "x"):
        if key in kwargs:
            return kwargs[key]
    return None


def _is_binary(x: torch.Tensor) -> bool:
    """True when every element of ``x`` is 0 or one common value ``v``."""
    if x.numel() == 0:
        return True
    if x.dtype == torch.bool:
        return True
    vmax, vmin = x.max(), x.min()
    v = vmax if bool(vmax != 0) else vmin
    return bool(((x == 0) | (x == v)).all())


def _conv_ops(module: nn.modules.conv._ConvNd, x: torch.Tensor, out: torch.Tensor) -> int:
    per_output = (module.in_channels // module.groups) * math.prod(module.kernel_size)
    return int(out.numel()) * per_output


def _conv_acs(module: nn.modules.conv._ConvNd, x: torch.Tensor) -> int:
    """Exact count of (output element, kernel tap) pairs reading a non-zero input."""
    nd = len(module.kernel_size)
    if x.dim() == nd + 1:  # unbatched
        x = x.unsqueeze(0)
    groups = module.groups
    mask = (x != 0).to(torch.float32)
    b, c = mask.shape[:2]
    spatial = mask.shape[2:]
    mask = mask.reshape(b, groups, c // groups, *spatial).sum(2)  # [B, groups, *S]
    padding = module.padding
    if module.padding_mode != "zeros":
        mask = F.pad(mask, module._reversed_padding_repeated_twice, mode=module.padding_mode)
        padding = 0
    ones = torch.ones(groups, 1, *module.kernel_size, dtype=mask.dtype, device=mask.device)
    with torch.autocast(device_type=mask.device.type, enabled=False):
        taps = _CONV_FUNCS[nd](mask, ones, None, module.stride, padding, module.dilation, groups)
    per_group = module.out_channels // groups
    return int(round(float(taps.sum(dtype=torch.float64)))) * per_group


def _rnn_ops(module: nn.RNNBase, x) -> int:
    if isinstance(x, nn.utils.rnn.PackedSequence):
        tokens = int(x.data.shape[0])
    elif x.dim() == 2:  # unbatched [L, I]
        tokens = int(x.shape[0])
    else:
        tokens = int(x.shape[0]) * int(x.shape[1])
    gates = _RNN_GATES[module.mode]
    h = module.hidden_size
    p = getattr(module, "proj_size", 0) or 0
    r = p if p > 0 else h
    dirs = 2 if module.bidirectional else 1
    per_token = 0
    for layer in range(module.num_layers):
        in_size = module.input_size if layer == 0 else r * dirs
        per_dir = gates * h * (in_size + r) + (h * p if p > 0 else 0)
        per_token += dirs * per_dir
    return tokens * per_token


def measure_energy(
    model: nn.Module,
    inputs,
    convention: str = "honest",
    e_mac: float = E_MAC,
    e_ac: float = E_AC,
    *,
    batch_size: Optional[int] = None,
    paper_mult_layers: Optional[Iterable[str]] = None,
) -> EnergyReport:
    r"""Run ``model(inputs)`` once and report its synaptic operations, firing rates
    and energy.

    .. math::

        E_{\rm total} = E_{MAC}\,N_{MAC} + E_{AC}\,N_{AC}, \qquad
        E_{\rm per\,input} = E_{\rm total} / B

    How :math:`N_{MAC}` and :math:`N_{AC}` are obtained depends on
    ``convention`` (see the module docs): ``"honest"`` bills each call from its
    actual input (binary input: one AC per non-zero input and fan-out; real input:
    MACs); ``"paper"`` reproduces Yao et al.'s Table 2 (all operations as
    additions at the mean spike rate, multiplications for the first layer and the
    classifier; 5.5 pJ per ANN MAC).

    A layer called several times (time steps, per-window synapses, shared
    weights) is accumulated over its calls. The model runs under
    :func:`torch.no_grad`; hooks are removed afterwards even if it raises.

    :param model: the network
    :type model: torch.nn.Module
    :param inputs: a tensor (called as ``model(inputs)``), a tuple or list
        (``model(*inputs)``) or a dict (``model(**inputs)``)
    :type inputs: torch.Tensor, tuple, list or dict
    :param convention: ``"honest"`` or ``"paper"``. Defaults to ``"honest"``
    :type convention: str, optional
    :param e_mac: joules per MAC (paper convention: per multiplication). Defaults to
        :data:`E_MAC` (4.6 pJ)
    :type e_mac: float, optional
    :param e_ac: joules per AC (paper convention: per addition). Defaults to
        :data:`E_AC` (0.9 pJ)
    :type e_ac: float, optional
    :param batch_size: inputs per run for ``per_image_j``. Defaults to None (the
        first dimension of the (first) input tensor); pass it for time-major inputs
    :type batch_size: int, optional
    :param paper_mult_layers: paper convention only: module names billed as
        multiplications, instead of the first layer and the final classifier.
        Defaults to None
    :type paper_mult_layers: iterable of str, optional
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
    if convention not in CONVENTIONS:
        raise ValueError(
            f"unknown energy convention {convention!r}; choose one of "
            + ", ".join(repr(c) for c in CONVENTIONS)
        )

    layers: Dict[nn.Module, _LayerStats] = {}
    neurons: Dict[nn.Module, _NeuronStats] = {}
    order = [0]
    handles = []
    honest = convention == "honest"

    def layer_hook(module, args, kwargs, output):
        st = layers[module]
        if st.calls == 0:
            st.order = order[0]
            order[0] += 1
        st.calls += 1
        x = _first_tensor(args, kwargs)
        kind = st.kind
        if kind.startswith("conv"):
            ops = _conv_ops(module, x, output)
        elif kind == "linear":
            ops = int(x.numel() // module.in_features) * module.in_features * module.out_features
        else:
            ops = _rnn_ops(module, x)
        st.ops += ops
        data = x.data if isinstance(x, nn.utils.rnn.PackedSequence) else x
        nz = int(torch.count_nonzero(data))
        st.nonzero += nz
        st.numel += int(data.numel())
        if kind in ("lstm", "gru", "rnn") or not _is_binary(data):
            st.mac_ops += ops
            return
        st.binary_calls += 1
        if not honest:
            st.ac_ops += ops  # unused by the paper convention
            return
        if kind == "linear":
            st.ac_ops += nz * module.out_features
        else:
            st.ac_ops += _conv_acs(module, data)

    def neuron_hook(module, args, kwargs, output):
        spk = output[0] if isinstance(output, (tuple, list)) else output
        if not isinstance(spk, torch.Tensor):
            return
        st = neurons[module]
        st.calls += 1
        st.spikes += int(torch.count_nonzero(spk))
        st.numel += int(spk.numel())

    try:
        for name, module in model.named_modules():
            kind = _layer_kind(module)
            if kind is not None:
                layers[module] = _LayerStats(name, kind, -1)
                handles.append(module.register_forward_hook(layer_hook, with_kwargs=True))
            elif isinstance(module, SpikingNeuron):
                neurons[module] = _NeuronStats(name)
                handles.append(module.register_forward_hook(neuron_hook, with_kwargs=True))
        with torch.no_grad():
            if isinstance(inputs, dict):
                model(**inputs)
            elif isinstance(inputs, (tuple, list)):
                model(*inputs)
            else:
                model(inputs)
    finally:
        for h in handles:
            h.remove()

    if batch_size is None:
        batch_size = _infer_batch(inputs)

    called = sorted((s for s in layers.values() if s.calls > 0), key=lambda s: s.order)
    fired = [s for s in neurons.values() if s.calls > 0]
    firing_rates = {s.name: (s.spikes / s.numel if s.numel else 0.0) for s in fired}
    total_updates = sum(s.numel for s in fired)
    mean_rate = (sum(s.spikes for s in fired) / total_updates) if total_updates else None

    mult_layers: List[str] = []
    rows: List[LayerEnergy] = []
    if honest:
        for s in called:
            energy = s.mac_ops * e_mac + s.ac_ops * e_ac
            rows.append(LayerEnergy(s.name, s.kind, s.calls, s.ops, s.mac_ops, s.ac_ops,
                                    _rate(s), energy, s.binary_calls))
    else:
        if paper_mult_layers is not None:
            mult_layers = list(paper_mult_layers)
            unknown = set(mult_layers) - {s.name for s in called}
            if unknown:
                raise ValueError(f"paper_mult_layers names no called synaptic layer: "
                                 f"{sorted(unknown)}")
        elif called:
            mult_layers = [called[0].name]
            last = max(called, key=lambda s: s.order)
            if last.kind == "linear" and last.name not in mult_layers:
                mult_layers.append(last.name)
        ann = mean_rate is None
        for s in called:
            adds = float(s.ops) if ann else s.ops * mean_rate
            mults = s.ops if (ann or s.name in mult_layers) else 0
            energy = mults * e_mac + adds * e_ac
            rows.append(LayerEnergy(s.name, s.kind, s.calls, s.ops, mults, adds, _rate(s),
                                    energy, s.binary_calls))
        if ann:
            mult_layers = [s.name for s in called]

    total_j = float(sum(r.energy_j for r in rows))
    neuron_ops = total_updates * (NEURON_MACS_PER_UPDATE + NEURON_ACS_PER_UPDATE)
    neuron_energy = total_updates * (NEURON_MACS_PER_UPDATE * e_mac + NEURON_ACS_PER_UPDATE * e_ac)
    return EnergyReport(
        rows=rows,
        total_j=total_j,
        per_image_j=total_j / max(int(batch_size), 1),
        macs=sum(r.macs for r in rows),
        acs=sum(r.acs for r in rows),
        firing_rates=firing_rates,
        neuron_ops=neuron_ops,
        neuron_energy_j=float(neuron_energy),
        convention=convention,
        batch_size=int(batch_size),
        e_mac=e_mac,
        e_ac=e_ac,
        mean_rate=mean_rate,
        neuron_updates=total_updates,
        mult_layers=mult_layers,
    )


def energy_ratio(report: EnergyReport, baseline: EnergyReport) -> float:
    r"""How many times less energy per input ``report`` needs than ``baseline``
    (typically the ANN twin):

    .. math::

        \rho = \frac{E^{\rm baseline}_{\rm per\,input}}{E^{\rm report}_{\rm per\,input}}

    Both reports must use the same convention and prices (else ValueError).
    Returns ``inf`` when ``report`` costs nothing.

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
    :return: :math:`\rho` (``inf`` when ``report`` costs nothing)
    :rtype: float
    :raises ValueError: for reports of different conventions or prices
    """
    _check_comparable(report, baseline)
    if report.per_image_j == 0:
        return math.inf
    return baseline.per_image_j / report.per_image_j


def compare(report: EnergyReport, ann_report: EnergyReport) -> Dict[str, Any]:
    """Side-by-side summary of a spiking network and its ANN twin.

    Returns ``{"convention", "snn_per_image_j", "ann_per_image_j", "ratio",
    "snn_macs", "snn_acs", "ann_macs", "ann_acs", "mean_rate"}``, where ``ratio``
    is :func:`energy_ratio` (ANN / SNN, per input) and the operation counts are
    per input.

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
    }


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


def _check_comparable(a: EnergyReport, b: EnergyReport) -> None:
    if a.convention != b.convention:
        raise ValueError(
            f"cannot compare an energy report in the {a.convention!r} convention with one "
            f"in the {b.convention!r} convention: measure both the same way"
        )
    if not (math.isclose(a.e_mac, b.e_mac) and math.isclose(a.e_ac, b.e_ac)):
        raise ValueError("cannot compare energy reports priced with different e_mac / e_ac")


def _rate(s: _LayerStats) -> float:
    return s.nonzero / s.numel if s.numel else 0.0


def _infer_batch(inputs) -> int:
    if isinstance(inputs, torch.Tensor):
        return int(inputs.shape[0]) if inputs.dim() > 0 else 1
    if isinstance(inputs, dict):
        values: Sequence = list(inputs.values())
    elif isinstance(inputs, (tuple, list)):
        values = inputs
    else:
        return 1
    for v in values:
        if isinstance(v, torch.Tensor) and v.dim() > 0:
            return int(v.shape[0])
    return 1


def _fmt_j(value: float) -> str:
    value = float(value)
    if value == 0:
        return "0 J"
    for unit, scale in (("J", 1.0), ("mJ", 1e-3), ("uJ", 1e-6), ("nJ", 1e-9), ("pJ", 1e-12)):
        if abs(value) >= scale:
            return f"{value / scale:.4g} {unit}"
    return f"{value / 1e-15:.4g} fJ"


def _fmt_n(value) -> str:
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.4g}" if abs(value) < 1e5 else f"{value:.4e}"
    value = int(value)
    return str(value) if abs(value) < 10**9 else f"{value:.4e}"


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else "..." + text[-(width - 3):]


def _wrap(text: str, width: int) -> List[str]:
    import textwrap

    return textwrap.wrap(text, width)
