r"""Counting: what a network does on real inputs, layer by layer, before any price.

:func:`count_operations` runs the network once under :func:`torch.no_grad` with
forward hooks (removed afterwards, also when the forward raises) and returns an
:class:`OperationCounts`:

* one :class:`LayerCount` per synaptic layer (convolution, linear, LSTM / GRU /
  RNN), summed over its calls: the dense operation count, which calls received a
  *binary* tensor, and for those the exact number of (non-zero input, output it
  feeds) pairs, i.e. the spike events times their fan-out;
* one :class:`NeuronCount` per module doing elementwise work: every spiking neuron
  (any subclass of snntorch's ``SpikingNeuron``; its spikes and output elements give
  its firing rate), and the ANN side's ReLUs and batch norms, counted by the same
  rules (see :func:`neuron_work`).

Neurons report their own work; the counter knows no neuron class of this package. A
module that says what it is carries an ``energy_kind`` (``"projleaky"``, ``"relu"``;
None: not counted itself) and, when its work is not one update per element, a method
``elementwise_work(input_, lateral)`` returning the fields of :class:`NeuronCount`
it fills (``updates``, ``sines``, ``cosines``, ``proj_mults``, ``proj_adds``,
``projection``); a neuron whose output is made of several spikes per element says
how many through ``spike_counts(spk)``. :class:`~snntorch_ms.ProjLeaky` reports all
three; the models' ``"relu"`` adapter its kind. Any other snntorch spiking neuron is
a ``"leaky"``, and :class:`torch.nn.ReLU` and batch norms are recognised as such.

Nothing here knows about joules: :mod:`snntorch_ms.energy.pricing` prices these
counts.

Dense operation counts, per call of a layer (convolutions and linears: torch's
:class:`~torch.utils.flop_counter.FlopCounterMode`, half its FLOPs, around each
call; recurrent layers: ours, since it counts nothing for them):

* convolution (:class:`~torch.nn.Conv1d`, ``Conv2d``, ``Conv3d``):
  :math:`N = |\text{output}| \cdot \frac{C_{in}}{\text{groups}} \cdot \prod k`
  (padded taps included, the usual convention). With a binary input the event
  count is exact: the (output element, kernel tap) pairs whose input element is
  non-zero, computed by convolving the input's non-zero mask with a kernel of ones
  (padding, stride, dilation, groups and padding mode respected).
* linear: :math:`N = F_{out} \cdot F_{in} \cdot \text{rows}`; with a binary input
  the events are :math:`F_{out} \cdot \#\text{non-zero inputs}` (exact).
* LSTM: per token, layer and direction, :math:`4 H (I + H)` for the four gates'
  matrix products; GRU :math:`3 H (I + H)`; plain RNN :math:`H (I + H)`; with
  ``proj_size`` :math:`P > 0` the recurrent term uses :math:`P` and the projection
  adds :math:`H P`. Recurrent layers are never binary (their state is real-valued).

Not counted: biases, pooling, activations other than ReLU, layer norms,
attention computed with functional calls (:func:`torch.nn.functional.linear`,
``matmul``, :class:`~torch.nn.MultiheadAttention`'s fused path), transposed
convolutions, and ReLUs applied functionally outside a module (only
:class:`torch.nn.ReLU` modules and the ``"relu"`` neurons of
:mod:`snntorch_ms.models` are seen).

Example::

    >>> import torch
    >>> from torch import nn
    >>> net = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    >>> counts = count_operations(net, torch.tensor([[1.0, 0.0, 1.0, 0.0]]))
    >>> [(c.name, c.ops, c.binary_calls, c.event_ops) for c in counts.layers][0]
    ('0', 12, 1, 6)
    >>> [(n.name, n.kind, n.updates) for n in counts.neurons]
    [('1', 'relu', 3)]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Union

import torch
from snntorch._neurons.neurons import SpikingNeuron
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from ..functional.projection import projection_ops  # re-exported: it lives beside its spec
from ._synapses import (carry_counts, conv_acs, graded_counts, is_binary, layer_kind, rnn_ops,
                        tensor_key)

__all__ = [
    "LayerCount",
    "NeuronCount",
    "OperationCounts",
    "count_operations",
    "projection_ops",
    "neuron_work",
]

#: Kinds of :class:`NeuronCount` that are spiking neurons (they have a firing rate).
SPIKING_KINDS = ("leaky", "projleaky")


# ---------------------------------------------------------------------------
# the counts
# ---------------------------------------------------------------------------


@dataclass
class LayerCount:
    r"""The synaptic work of one layer, summed over all its calls.

    .. math::

        N = N_{\rm dense} + N_{\rm binary}, \qquad
        N_{\rm events} \le N_{\rm binary}

    ``ops`` (:math:`N`) is the dense count of every call; ``dense_ops`` the part of
    it from calls on a real-valued input (and every recurrent call),
    ``binary_ops`` the part from calls on a binary input, whose exact event count
    (non-zero inputs times the outputs each feeds) is ``event_ops``. Calls on a
    ``condense="mean"`` output of :class:`~snntorch_ms.ProjLeaky` (a mean of binary
    window spikes) count there too, with the window spikes as the events
    (``graded_calls`` of them; see :func:`count_operations`).

    Example::

        >>> import torch
        >>> from torch import nn
        >>> (c,) = count_operations(nn.Linear(4, 3), torch.tensor([[1.0, 0, 1, 0]])).layers
        >>> c.ops, c.dense_ops, c.binary_ops, c.event_ops, c.input_rate
        (12, 0, 12, 6, 0.5)

    :param name: qualified module name (from ``model.named_modules()``)
    :type name: str
    :param kind: ``"conv1d"``, ``"conv2d"``, ``"conv3d"``, ``"linear"``, ``"lstm"``,
        ``"gru"`` or ``"rnn"``
    :type kind: str
    """

    name: str
    kind: str
    calls: int = 0
    ops: int = 0
    dense_ops: int = 0
    binary_calls: int = 0
    binary_ops: int = 0
    event_ops: int = 0
    nonzero: int = 0
    numel: int = 0
    order: int = -1
    graded_calls: int = 0

    @property
    def input_rate(self) -> float:
        """Fraction of non-zero input elements over all calls."""
        return self.nonzero / self.numel if self.numel else 0.0


@dataclass
class NeuronCount:
    r"""The elementwise work of one module (a spiking neuron, a ReLU or a batch
    norm), summed over all its calls.

    .. math::

        r = \frac{\#\text{spikes}}{\#\text{outputs}}

    ``updates`` are the module's elementwise evaluations: for a spiking neuron its
    membrane updates (one per window sub-step and position for a windowed
    :class:`~snntorch_ms.ProjLeaky`, so more than its outputs with overlapping
    windows), for a ReLU or a batch norm its output elements. ``sines``,
    ``cosines``, ``proj_mults`` and ``proj_adds`` are the projection's work
    (:func:`~snntorch_ms.functional.projection_ops`). ``spikes`` and ``outputs`` (non-zero and all
    elements of the spike output) give a spiking neuron's firing rate :math:`r`.

    Example::

        >>> import torch, snntorch as snn
        >>> from torch import nn
        >>> lif = snn.Leaky(beta=0.5, init_hidden=True)
        >>> (n,) = count_operations(nn.Sequential(lif), torch.tensor([[2.0, 0.0]])).neurons
        >>> n.kind, n.updates, n.spikes, n.outputs, n.rate
        ('leaky', 2, 1, 2, 0.5)

    :param name: qualified module name
    :type name: str
    :param kind: ``"leaky"`` (any snntorch spiking neuron), ``"projleaky"``,
        ``"relu"`` or ``"batchnorm"``
    :type kind: str
    """

    name: str
    kind: str
    calls: int = 0
    updates: int = 0
    sines: int = 0
    cosines: int = 0
    proj_mults: int = 0
    proj_adds: int = 0
    spikes: int = 0
    outputs: int = 0
    projection: str = ""
    order: int = -1

    @property
    def spiking(self) -> bool:
        """Whether this module is a spiking neuron (it has a firing rate)."""
        return self.kind in SPIKING_KINDS

    @property
    def rate(self) -> float:
        """Firing rate: non-zero spike outputs over all spike outputs."""
        return self.spikes / self.outputs if self.outputs else 0.0


@dataclass
class OperationCounts:
    r"""Everything :func:`count_operations` counted, in call order.

    .. math::

        \bar r = \frac{\sum_l \#\text{spikes}_l}{\sum_l \#\text{outputs}_l}

    ``mean_rate`` (:math:`\bar r`, over all spiking neurons) is None without
    spiking neurons.

    Example::

        >>> import torch, snntorch as snn
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Linear(2, 2), snn.Leaky(beta=0.5, init_hidden=True))
        >>> c = count_operations(net, torch.ones(3, 2))
        >>> c.batch_size, len(c.layers), sorted(c.firing_rates)
        (3, 1, ['1'])

    :param layers: synaptic layers, in the order of their first call
    :type layers: list(LayerCount)
    :param neurons: modules doing elementwise work, in the order of their first call
    :type neurons: list(NeuronCount)
    :param batch_size: inputs in the measured run
    :type batch_size: int
    """

    layers: List[LayerCount]
    neurons: List[NeuronCount] = field(default_factory=list)
    batch_size: int = 1

    @property
    def spiking(self) -> List[NeuronCount]:
        """The spiking neurons among ``neurons``."""
        return [n for n in self.neurons if n.spiking]

    @property
    def firing_rates(self) -> Dict[str, float]:
        """Firing rate of each spiking neuron, by module name."""
        return {n.name: n.rate for n in self.spiking}

    @property
    def mean_rate(self) -> Optional[float]:
        """All spikes over all spike outputs of all spiking neurons (None without any)."""
        outputs = sum(n.outputs for n in self.spiking)
        return sum(n.spikes for n in self.spiking) / outputs if outputs else None

    @property
    def neuron_updates(self) -> int:
        """Membrane updates of all spiking neurons."""
        return sum(n.updates for n in self.spiking)


# ---------------------------------------------------------------------------
# neuron-internal work: pure rules
# ---------------------------------------------------------------------------


def neuron_work(module: nn.Module, input_: torch.Tensor,
                lateral: Optional[torch.Tensor] = None) -> NeuronCount:
    r"""The elementwise work of one call of ``module`` on ``input_``.

    .. math::

        n_{\rm updates} = \begin{cases}
        B\, C \sum_{i,j} n(i, j) & \text{windowed ProjLeaky on a map} \\
        |\text{input}| & \text{otherwise}
        \end{cases}

    with :math:`n(i, j)` the number of windows covering position :math:`(i, j)`
    (:func:`snntorch_ms.functional.coverage`): a windowed
    :class:`~snntorch_ms.ProjLeaky` runs one membrane update per window sub-step
    and position, and evaluates its projection at each
    (:func:`~snntorch_ms.functional.projection_ops`; a cosine more for windows
    :math:`p \ge 2` when called with ``lateral``). A window stack
    ``[B, g, C, h, w]`` is :math:`g` sub-steps already cut. The neuron reports this
    itself (:meth:`ProjLeaky.elementwise_work
    <snntorch_ms.ProjLeaky.elementwise_work>`). Any other snntorch spiking neuron,
    a ReLU and a batch norm do one update per element.

    Example::

        >>> import torch
        >>> from snntorch_ms import ProjLeaky
        >>> lif = ProjLeaky(0.5, windows="overlap", groups=4)
        >>> x = torch.zeros(2, 3, 4, 4)   # overlap windows 3x3: each position covered 2.25x on average
        >>> w = neuron_work(lif, x, lateral=torch.zeros_like(x))
        >>> w.updates, w.sines, w.cosines   # 2 x 3 x 4 x 9 updates; cosines for windows 2..4
        (216, 216, 162)

    :param module: a spiking neuron, :class:`torch.nn.ReLU`, a ``"relu"`` neuron of
        :mod:`snntorch_ms.models` or a batch norm
    :type module: torch.nn.Module
    :param input_: the call's input
    :type input_: torch.Tensor
    :param lateral: ProjLeaky's lateral membrane, or None. Defaults to None
    :type lateral: torch.Tensor, optional
    :return: the counts of this call (``calls=1``; spikes are not counted here)
    :rtype: NeuronCount
    :raises TypeError: for a module that does no counted elementwise work
    """
    kind = _neuron_kind(module)
    if kind is None:
        raise TypeError(f"{type(module).__name__} does no elementwise work counted here")
    count = NeuronCount("", kind, calls=1)
    report = getattr(module, "elementwise_work", None)
    if report is None:  # one update per element
        count.updates = int(input_.numel())
        return count
    for key, value in report(input_, lateral).items():
        setattr(count, key, value)
    return count


def _neuron_kind(module: nn.Module) -> Optional[str]:
    """The kind a module reports (its ``energy_kind``), else what it is: any other
    snntorch spiking neuron, a ReLU, a batch norm; None for anything else."""
    kind = getattr(module, "energy_kind", None)
    if kind is not None:
        return kind
    if isinstance(module, SpikingNeuron):
        return "leaky"
    if isinstance(module, nn.ReLU):
        return "relu"
    if isinstance(module, nn.modules.batchnorm._BatchNorm):
        return "batchnorm"
    return None


# ---------------------------------------------------------------------------
# the measurement
# ---------------------------------------------------------------------------


def count_operations(model: nn.Module, inputs, *,
                     batch_size: Optional[int] = None) -> OperationCounts:
    r"""Run ``model(inputs)`` once and count its synaptic operations, spike events
    and elementwise work (see the module docs for the rules).

    .. math::

        N_l = \sum_{\text{calls}} N_l^{\rm call}

    A layer called several times (time steps, per-window synapses, shared
    weights) is accumulated over its calls. The model runs under
    :func:`torch.no_grad`; its mode is not changed (call ``model.eval()`` first
    for inference figures); hooks are removed afterwards even if it raises.

    Example::

        >>> import torch
        >>> from torch import nn
        >>> c = count_operations(nn.Conv2d(1, 2, 3), torch.rand(1, 1, 4, 4) + 0.1)
        >>> (c.layers[0].kind, c.layers[0].ops, c.layers[0].dense_ops)
        ('conv2d', 72, 72)

    :param model: the network
    :type model: torch.nn.Module
    :param inputs: a tensor (called as ``model(inputs)``), a tuple or list
        (``model(*inputs)``) or a dict (``model(**inputs)``)
    :type inputs: torch.Tensor, tuple, list or dict
    :param batch_size: inputs per run. Defaults to None (the first dimension of
        the (first) input tensor); pass it for time-major inputs
    :type batch_size: int, optional
    :return: the counts
    :rtype: OperationCounts
    """
    counter = _OperationCounter()
    try:
        counter.attach(model)
        with torch.no_grad(), counter.flops:
            if isinstance(inputs, dict):
                model(**inputs)
            elif isinstance(inputs, (tuple, list)):
                model(*inputs)
            else:
                model(inputs)
    finally:
        counter.detach()

    if batch_size is None:
        batch_size = _infer_batch(inputs)
    return OperationCounts(
        layers=sorted((s for s in counter.layers.values() if s.calls > 0),
                      key=lambda s: s.order),
        neurons=sorted((s for s in counter.neurons.values() if s.calls > 0),
                       key=lambda s: s.order),
        batch_size=int(batch_size),
    )


class _OperationCounter:
    """The forward hooks of one :func:`count_operations` run and the state they share:
    the per-module counts, the first-call order, the hook handles, the graded
    (multi-level spike) tensors seen so far and the FLOP counter around the run."""

    def __init__(self) -> None:
        self.layers: Dict[nn.Module, LayerCount] = {}
        self.neurons: Dict[nn.Module, NeuronCount] = {}
        self.order = 0
        self.handles: list = []
        self.graded: Dict[tuple, tuple] = {}  # multi-level spike tensors -> their spike counts
        self.flops = FlopCounterMode(display=False)  # dense counts of convolutions and linears
        self.started: Dict[nn.Module, int] = {}

    def attach(self, model: nn.Module) -> None:
        """Register the hooks on every counted module (and leaf passthrough) of ``model``."""
        for name, module in model.named_modules():
            kind = layer_kind(module)
            if kind is not None:
                self.layers[module] = LayerCount(name, kind)
                self.handles.append(
                    module.register_forward_pre_hook(self.layer_start, with_kwargs=True))
                self.handles.append(
                    module.register_forward_hook(self.layer_hook, with_kwargs=True))
                continue
            kind = _neuron_kind(module)
            if kind is not None:
                self.neurons[module] = NeuronCount(name, kind)
                self.handles.append(
                    module.register_forward_hook(self.neuron_hook, with_kwargs=True))
            elif next(module.children(), None) is None:
                self.handles.append(
                    module.register_forward_hook(self.passthrough_hook, with_kwargs=True))

    def detach(self) -> None:
        """Remove every registered hook."""
        for h in self.handles:
            h.remove()

    def first_call(self, st) -> None:
        if st.calls == 0:
            st.order = self.order
            self.order += 1

    def layer_start(self, module, args, kwargs):
        self.started[module] = self.flops.get_total_flops()

    def layer_hook(self, module, args, kwargs, output):
        st = self.layers[module]
        self.first_call(st)
        st.calls += 1
        x = _first_tensor(args, kwargs)
        kind = st.kind
        if kind in ("lstm", "gru", "rnn"):  # FlopCounterMode counts nothing for these
            ops = rnn_ops(module, x)
        else:  # FlopCounterMode: 2 FLOPs per multiply-accumulate, biases not counted
            ops = (self.flops.get_total_flops() - self.started.pop(module)) // 2
        st.ops += ops
        data = x.data if isinstance(x, nn.utils.rnn.PackedSequence) else x
        nz = int(torch.count_nonzero(data))
        st.nonzero += nz
        st.numel += int(data.numel())
        counts = graded_counts(self.graded, data) if kind in ("linear",) or \
            kind.startswith("conv") else None
        if counts is not None:  # a mean of binary window spikes: its spikes are the events
            st.binary_calls += 1
            st.graded_calls += 1
            st.binary_ops += ops
            st.event_ops += (int(round(float(counts.sum(dtype=torch.float64))))
                             * module.out_features if kind == "linear"
                             else conv_acs(module, data, weights=counts))
            return
        if kind in ("lstm", "gru", "rnn") or not is_binary(data):
            st.dense_ops += ops
            return
        st.binary_calls += 1
        st.binary_ops += ops
        st.event_ops += nz * module.out_features if kind == "linear" else conv_acs(module, data)

    def neuron_hook(self, module, args, kwargs, output):
        st = self.neurons[module]
        x = _first_tensor(args, kwargs)
        if not isinstance(x, torch.Tensor):
            return
        lateral = kwargs.get("lateral", args[2] if len(args) > 2 else None)
        work = neuron_work(module, x, lateral)
        self.first_call(st)
        st.calls += 1
        for key in ("updates", "sines", "cosines", "proj_mults", "proj_adds"):
            setattr(st, key, getattr(st, key) + getattr(work, key))
        st.projection = work.projection
        if st.spiking:
            spk = output[0] if isinstance(output, (tuple, list)) else output
            if isinstance(spk, torch.Tensor):
                st.spikes += int(torch.count_nonzero(spk))
                st.outputs += int(spk.numel())
                counts = module.spike_counts(spk) if hasattr(module, "spike_counts") else None
                if counts is not None:  # the neuron tells its coverage (condense="mean")
                    self.graded[tensor_key(spk)] = (spk, counts)

    def passthrough_hook(self, module, args, kwargs, output):
        # pooling and value-preserving modules carry a graded tensor's spike counts on
        x = _first_tensor(args, kwargs)
        if not self.graded or not isinstance(x, torch.Tensor) \
                or not isinstance(output, torch.Tensor):
            return
        counts = graded_counts(self.graded, x)
        if counts is None:
            return
        moved = carry_counts(module, x, output, counts)
        if moved is not None:
            self.graded[tensor_key(output)] = (output, moved)


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


def _first_tensor(args, kwargs) -> Optional[torch.Tensor]:
    if args:
        return args[0]
    for key in ("input", "input_", "x", "cur"):
        if key in kwargs:
            return kwargs[key]
    return None


def _infer_batch(inputs: Union[torch.Tensor, Sequence, dict, object]) -> int:
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
