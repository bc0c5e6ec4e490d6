r"""Operation counting and energy estimates for spiking and non-spiking networks.

:func:`measure_energy` runs a network once on real inputs and reports, per layer
and in all, its synaptic operations, its firing rates, its neuron-internal and
elementwise work, and their energy in joules with the 45 nm figures of Horowitz
(ISSCC 2014): :math:`E_{MAC} = 4.6` pJ per 32-bit floating-point
multiply-accumulate, :math:`E_{AC} = 0.9` pJ per 32-bit floating-point addition.

.. math::

    E = E_{MAC}\,N_{MAC} + E_{AC}\,N_{AC}

It is three steps, each a module, everything importable from here:

* :mod:`~snntorch_ms.energy.counting`: :func:`count_operations` counts, with
  forward hooks on real inputs, the dense operations of every convolution, linear
  and recurrent layer, which calls received binary spikes and their exact spike
  events times fan-out, every spiking neuron's spikes and membrane updates (a
  windowed ProjLeaky: one per window sub-step, a sine per update and a cosine
  more with ``lateral``), and the ANN side's ReLUs and batch norms;
* :mod:`~snntorch_ms.energy.pricing`: the two conventions as pure functions,
  ``"spike-driven"`` (default, :func:`spike_driven_cost`: one AC per spike event
  and fan-out, a MAC per operation on a real-valued input) and ``"paper"``
  (:func:`paper_cost`, Yao et al.'s Table 2), and the price of the elementwise
  work (:func:`neuron_cost`, a sine or cosine being :data:`TRIG_MACS`
  MAC-equivalents);
* :mod:`~snntorch_ms.energy.display`: :func:`format_report` (the table),
  :func:`plot_energy` (the figure) and :func:`format_joules`.

:mod:`~snntorch_ms.energy.report` holds the report types and the functions that
join the steps (:func:`measure_energy`, :func:`energy_ratio`, :func:`compare`).
The synaptic energy is the headline; the neuron-internal work is reported beside
it per input, and in a total that includes it.

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

from .counting import (
    LayerCount,
    NeuronCount,
    OperationCounts,
    count_operations,
    neuron_work,
    projection_ops,
)
from .display import format_joules, format_report
from .pricing import (
    BATCHNORM_MACS_PER_ELEMENT,
    CONVENTIONS,
    E_AC,
    E_MAC,
    NEURON_ACS_PER_UPDATE,
    NEURON_MACS_PER_UPDATE,
    RELU_ACS_PER_ELEMENT,
    TRIG_MACS,
    joules,
    neuron_cost,
    paper_cost,
    paper_multiplied_layers,
    resolve_convention,
    spike_driven_cost,
)
from .report import (
    EnergyReport,
    LayerEnergy,
    NeuronEnergy,
    compare,
    energy_ratio,
    measure_energy,
    plot_energy,
)

__all__ = [
    # the report (names of 0.1.0)
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
    # counting
    "LayerCount",
    "NeuronCount",
    "OperationCounts",
    "count_operations",
    "projection_ops",
    "neuron_work",
    # pricing
    "TRIG_MACS",
    "RELU_ACS_PER_ELEMENT",
    "BATCHNORM_MACS_PER_ELEMENT",
    "resolve_convention",
    "spike_driven_cost",
    "paper_cost",
    "paper_multiplied_layers",
    "neuron_cost",
    "joules",
    # display
    "NeuronEnergy",
    "format_joules",
    "format_report",
    "plot_energy",
]
