r"""Pricing: the counts of :mod:`snntorch_ms.energy.counting` in joules.

Prices are the 45 nm figures of Horowitz (ISSCC 2014) that the literature uses:
:math:`E_{MAC} = 4.6` pJ for a 32-bit floating-point multiply-accumulate and
:math:`E_{AC} = 0.9` pJ for a 32-bit floating-point addition (accumulate).

Two conventions price the synaptic operations, each a small pure function:

``"spike-driven"`` (default, :func:`spike_driven_cost`)
    Each call of a layer is billed from the tensor it actually received. A
    *binary* tensor (all values 0 or one common value: 0/1 spikes, or graded
    spikes of one magnitude) is a set of spike events: one AC per event and per
    output it feeds, zeros cost nothing. A real-valued tensor (images, real-valued
    MLPs and residual sums, ...) costs a MAC per operation; so do recurrent layers
    (their state is real-valued). A ``condense="mean"`` output of
    :class:`~snntorch_ms.ProjLeaky` holds several values (0.25, 0.5, ...), but it is
    the mean of the binary spikes of the 1, 2 or 4 windows covering a position: it is
    priced as those spike events, one AC per window spike and per output it feeds
    (the neuron tells the counter its coverage, :meth:`ProjLeaky.spike_counts
    <snntorch_ms.ProjLeaky.spike_counts>`, and max pooling, flattening and dropout
    carry the counts on), not as MACs. The test looks at the whole tensor of a call (the
    batch), so measure on a batch of realistic size.

    .. math::

        E = E_{MAC}\,N_{MAC} + E_{AC}\,N_{AC}

``"paper"`` (:func:`paper_cost`)
    The convention of Yao et al. (ACML 2023), Table 2: every synaptic operation
    billed as additions at the network's mean spike rate :math:`s`, and the
    operations of the first layer and of the final classifier billed again as
    multiplications (:func:`paper_multiplied_layers`). An ANN pays one addition
    and one multiplication per operation, :math:`E_{MAC} + E_{AC} = 5.5` pJ per
    MAC: since Horowitz's 4.6 pJ already *is* a MAC, this bills the ANN about 20 %
    more than the spike-driven convention. The paper's table prints "J" and "mJ"
    where its own arithmetic gives mJ and µJ.

    .. math::

        E = E_{AC}\, s \sum_l N_l + E_{MAC} \sum_{l \in \{\text{first}, \text{classifier}\}} N_l

Neuron-internal and elementwise work (:func:`neuron_cost`) is priced the same way
in both conventions and reported apart from the synaptic headline, as in the
literature: a membrane update is :data:`NEURON_MACS_PER_UPDATE` MAC (leak times
membrane plus input) and :data:`NEURON_ACS_PER_UPDATE` ACs (reset, threshold
comparison); a sine or a cosine of ProjLeaky's projection is ``trig_macs``
MAC-equivalents (default :data:`TRIG_MACS`, see there); a ReLU is one comparison
(:data:`RELU_ACS_PER_ELEMENT` AC, the price of the neuron's threshold comparison);
a batch norm is folded into the preceding layer's weights and bias (free) on both
sides by default, else :data:`BATCHNORM_MACS_PER_ELEMENT` MAC per element.

Example::

    >>> from snntorch_ms.energy.counting import LayerCount
    >>> layer = LayerCount("fc", "linear", calls=1, ops=12, binary_calls=1, binary_ops=12,
    ...                    event_ops=6)
    >>> spike_driven_cost(layer), paper_cost(layer, mean_rate=0.5, multiplied=False)
    ((0, 6), (0, 6.0))
    >>> round(joules(*spike_driven_cost(layer)) * 1e12, 6)   # 6 x 0.9 pJ
    5.4
"""

from __future__ import annotations

from typing import List, Optional, Sequence, Tuple

from .counting import LayerCount, NeuronCount

__all__ = [
    "CONVENTIONS",
    "E_MAC",
    "E_AC",
    "NEURON_MACS_PER_UPDATE",
    "NEURON_ACS_PER_UPDATE",
    "TRIG_MACS",
    "RELU_ACS_PER_ELEMENT",
    "BATCHNORM_MACS_PER_ELEMENT",
    "resolve_convention",
    "spike_driven_cost",
    "paper_cost",
    "paper_multiplied_layers",
    "neuron_cost",
    "joules",
]

#: Conventions understood by :func:`~snntorch_ms.energy.measure_energy`.
CONVENTIONS = ("spike-driven", "paper")

#: Energy of one 32-bit floating-point multiply-accumulate, 45 nm (Horowitz 2014), joules.
E_MAC = 4.6e-12
#: Energy of one 32-bit floating-point addition (accumulate), 45 nm (Horowitz 2014), joules.
E_AC = 0.9e-12

#: MACs per membrane update (leak x membrane + input).
NEURON_MACS_PER_UPDATE = 1
#: ACs per membrane update (reset subtraction, threshold comparison).
NEURON_ACS_PER_UPDATE = 2

#: MAC-equivalents of one sine or cosine, the operation count of Cephes' single
#: precision ``sinf`` / ``cosf`` (S. L. Moshier, Cephes Math Library 2.2, 1992; see
#: his "Methods and Programs for Mathematical Functions", 1989), one multiply,
#: addition or fused multiply-add each: the reduction to :math:`|x| \le \pi/4`
#: (:math:`x \cdot 4/\pi`, three multiply-adds of the extended-precision
#: :math:`x - y\,DP_1 - y\,DP_2 - y\,DP_3`, then :math:`z = x^2`: 5), then the
#: polynomial in Horner form in :math:`z`: the sine's degree-7 odd
#: :math:`x + x^3 P(z)` is 4 more (9 in all), the cosine's degree-8 even
#: :math:`1 - z/2 + z^2 Q(z)` 5 more (10). We price both at the larger, 10.
#: Degree 7 is the shortest odd polynomial that reaches single precision on
#: :math:`|x| \le \pi/4`: its minimax relative error is 3.6e-9 (Cephes: 3.8e-9),
#: below float32's unit roundoff 6e-8, where degree 5 leaves 1.8e-6.
TRIG_MACS = 10
#: ACs per ReLU element: one comparison with 0, priced like the neuron's threshold comparison.
RELU_ACS_PER_ELEMENT = 1
#: MACs per batch-norm element when it is not folded (inference: :math:`a x + c`).
BATCHNORM_MACS_PER_ELEMENT = 1

def resolve_convention(convention: str) -> str:
    r"""An energy convention's name, checked: one of :data:`CONVENTIONS`.

    .. math::

        c \in \{\text{"spike-driven"}, \text{"paper"}\}

    Example::

        >>> resolve_convention("spike-driven"), resolve_convention("paper")
        ('spike-driven', 'paper')

    :param convention: ``"spike-driven"`` or ``"paper"``
    :type convention: str
    :return: ``"spike-driven"`` or ``"paper"``
    :rtype: str
    :raises ValueError: on an unknown name
    """
    if convention not in CONVENTIONS:
        hint = (" ('honest' of 0.1.0 is 'spike-driven', same numbers)"
                if convention == "honest" else "")
        raise ValueError(
            f"unknown energy convention {convention!r}; choose one of "
            + ", ".join(repr(c) for c in CONVENTIONS) + hint
        )
    return convention


def spike_driven_cost(layer: LayerCount) -> Tuple[int, int]:
    r"""``(MACs, ACs)`` of a layer in the spike-driven convention: a MAC per
    operation of the calls on real-valued inputs, an AC per spike event and
    fan-out of the calls on binary inputs.

    .. math::

        N_{MAC} = N_{\rm dense}, \qquad N_{AC} = N_{\rm events}

    Example::

        >>> layer = LayerCount("fc", "linear", calls=2, ops=24, dense_ops=12,
        ...                    binary_calls=1, binary_ops=12, event_ops=6)
        >>> spike_driven_cost(layer)
        (12, 6)

    :param layer: the layer's counts
    :type layer: LayerCount
    :return: ``(MACs, ACs)``
    :rtype: tuple(int, int)
    """
    return layer.dense_ops, layer.event_ops


def paper_cost(layer: LayerCount, mean_rate: Optional[float],
               multiplied: bool) -> Tuple[float, float]:
    r"""``(multiplications, additions)`` of a layer in the paper's convention
    (Yao et al., ACML 2023, Table 2).

    .. math::

        N_{\rm add} = s\, N, \qquad
        N_{\rm mult} = \begin{cases} N & \text{multiplied layer or ANN} \\
        0 & \text{otherwise} \end{cases}

    with :math:`s` the network's mean spike rate; an ANN (``mean_rate=None``)
    pays :math:`N` additions and :math:`N` multiplications.

    Example::

        >>> layer = LayerCount("fc", "linear", calls=1, ops=16, dense_ops=16)
        >>> paper_cost(layer, 0.25, multiplied=True), paper_cost(layer, None, multiplied=False)
        ((16, 4.0), (16, 16.0))

    :param layer: the layer's counts
    :type layer: LayerCount
    :param mean_rate: the network's mean spike rate :math:`s`, None for an ANN
    :type mean_rate: float or None
    :param multiplied: whether the layer is billed multiplications too
    :type multiplied: bool
    :return: ``(multiplications, additions)``
    :rtype: tuple(float, float)
    """
    if mean_rate is None:
        return layer.ops, float(layer.ops)
    return (layer.ops if multiplied else 0), layer.ops * mean_rate


def paper_multiplied_layers(layers: Sequence[LayerCount],
                            names: Optional[Sequence[str]] = None) -> List[str]:
    r"""The layers the paper's convention bills as multiplications: the first
    synaptic layer called and the final classifier (the last layer called, when
    it is linear), or the given ``names``.

    .. math::

        M = \{l_{\rm first}\} \cup \{l_{\rm last} \mid l_{\rm last} \text{ linear}\}

    Example::

        >>> layers = [LayerCount("conv", "conv2d", order=0), LayerCount("fc", "linear", order=1)]
        >>> paper_multiplied_layers(layers), paper_multiplied_layers(layers, ["fc"])
        (['conv', 'fc'], ['fc'])

    :param layers: the called layers
    :type layers: sequence of LayerCount
    :param names: module names to use instead. Defaults to None
    :type names: sequence of str, optional
    :return: the module names billed as multiplications
    :rtype: list(str)
    :raises ValueError: when ``names`` names no called layer
    """
    if names is not None:
        names = list(names)
        unknown = set(names) - {s.name for s in layers}
        if unknown:
            raise ValueError(f"paper_mult_layers names no called synaptic layer: "
                             f"{sorted(unknown)}")
        return names
    if not layers:
        return []
    ordered = sorted(layers, key=lambda s: s.order)
    chosen = [ordered[0].name]
    if ordered[-1].kind == "linear" and ordered[-1].name not in chosen:
        chosen.append(ordered[-1].name)
    return chosen


def neuron_cost(count: NeuronCount, trig_macs: float = TRIG_MACS,
                fold_batchnorm: bool = True) -> Tuple[float, float]:
    r"""``(MACs, ACs)`` of a module's elementwise work, the same rules for the
    spiking network and its ANN twin.

    .. math::

        N_{MAC} &= n_{\rm upd}\, m_{\rm upd} + n_{\times} + c_{\rm trig}\,
                   (n_{\sin} + n_{\cos}), \qquad
        N_{AC} = n_{\rm upd}\, a_{\rm upd} + n_{+} \quad \text{(spiking neuron)} \\
        N_{AC} &= n \quad \text{(ReLU)}, \qquad
        N_{MAC} = 0 \text{ folded, else } n \quad \text{(batch norm)}

    with :math:`m_{\rm upd} =` :data:`NEURON_MACS_PER_UPDATE`, :math:`a_{\rm upd} =`
    :data:`NEURON_ACS_PER_UPDATE` and :math:`c_{\rm trig} =` ``trig_macs``.

    Example::

        >>> from snntorch_ms.energy.counting import NeuronCount
        >>> proj = NeuronCount("lif", "projleaky", updates=16, sines=16, cosines=12,
        ...                    proj_mults=56)
        >>> neuron_cost(proj)          # 16 x 1 + 56 + 10 x 28, 16 x 2
        (352, 32)
        >>> neuron_cost(NeuronCount("act", "relu", updates=16))
        (0, 16)

    :param count: the module's counts
    :type count: NeuronCount
    :param trig_macs: MAC-equivalents of a sine or cosine. Defaults to
        :data:`TRIG_MACS` (10)
    :type trig_macs: float, optional
    :param fold_batchnorm: batch norm folded into the preceding layer (free).
        Defaults to True
    :type fold_batchnorm: bool, optional
    :return: ``(MACs, ACs)``
    :rtype: tuple(float, float)
    """
    if count.kind == "relu":
        return 0, count.updates * RELU_ACS_PER_ELEMENT
    if count.kind == "batchnorm":
        return (0 if fold_batchnorm else count.updates * BATCHNORM_MACS_PER_ELEMENT), 0
    macs = (count.updates * NEURON_MACS_PER_UPDATE + count.proj_mults
            + trig_macs * (count.sines + count.cosines))
    acs = count.updates * NEURON_ACS_PER_UPDATE + count.proj_adds
    return macs, acs


def joules(macs: float, acs: float, e_mac: float = E_MAC, e_ac: float = E_AC) -> float:
    r"""Energy of ``macs`` multiply-accumulates and ``acs`` accumulates, joules.

    .. math::

        E = E_{MAC}\,N_{MAC} + E_{AC}\,N_{AC}

    Example::

        >>> round(joules(2, 10) * 1e12, 6)   # 2 x 4.6 + 10 x 0.9 pJ
        18.2

    :param macs: :math:`N_{MAC}` (paper convention: multiplications)
    :type macs: float
    :param acs: :math:`N_{AC}` (paper convention: additions)
    :type acs: float
    :param e_mac: joules per MAC. Defaults to :data:`E_MAC` (4.6 pJ)
    :type e_mac: float, optional
    :param e_ac: joules per AC. Defaults to :data:`E_AC` (0.9 pJ)
    :type e_ac: float, optional
    :rtype: float
    """
    return float(macs * e_mac + acs * e_ac)
