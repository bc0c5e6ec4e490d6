r"""Membrane batch normalisation before the threshold (MPBN) as a training technique:
adding it to a network's neurons, and folding it into a per-channel threshold for
inference. (The math: :mod:`snntorch_ms.functional.membrane_bn`; the neuron:
:class:`~snntorch_ms._neurons.membrane_bn.MembraneBN`.)

Guo et al., "Membrane Potential Batch Normalization for Spiking Neural Networks"
(ICCV 2023) observe that the batch norm after a synapse normalises the *current*,
but the membrane, which integrates currents (and here, window sub-steps), drifts
away from that normalisation before it meets the threshold. MPBN normalises the
membrane itself, per channel, just before firing:

.. math::

    \hat U_p = a\,U_p + c, \qquad a = \frac{\gamma}{\sqrt{\sigma^2 + \epsilon}}, \qquad
    c = \beta_{\rm bn} - a\,\mu, \qquad S_p = \Theta(\hat U_p - V_{\rm thr})\, s

with :math:`\mu, \sigma^2` the batch statistics of :math:`U_p` in training (one
set per window sub-step and time step; the running statistics they update are
shared by all of them) and the running statistics at inference.

**Where the normalisation sits.** Only the firing decision sees :math:`\hat U`; the
state stays the raw membrane :math:`U`, on which the leak, the projection
:math:`\Omega` and the reset act. The reset subtracts the threshold *as the raw
membrane sees it*,

.. math::

    \vartheta = \frac{V_{\rm thr} - c}{a} = \mu + \frac{\sigma}{\gamma}
    (V_{\rm thr} - \beta_{\rm bn}), \qquad
    U_{p} = \beta\,\Omega(U_{p-1}, L_{p-1}) + I_p - \vartheta\, R_{p-1}

(``reset_mechanism="subtract"``; in normalised units the reset lowers
:math:`\hat U` by :math:`V_{\rm thr} - c`), and :math:`R_{p-1}` is the (detached)
spike of sub-step :math:`p-1`; at the start of a time step it is recomputed from
the carried membrane with the running statistics. ``"zero"`` and ``"none"`` are
unchanged. With this definition the fold is **exact for every reset mechanism,
with or without windows and at any T**: at inference :math:`a` and :math:`c` are
constants, and

* :math:`a > 0`: :math:`\Theta(aU + c - V_{\rm thr}) = \Theta(U - \vartheta)`: the
  plain neuron with the per-channel threshold :math:`\vartheta`, which is also
  what its subtract reset removes;
* :math:`a < 0`: the inequality flips. Negating the channel's synapse (its batch
  norm's :math:`\gamma, \beta` or the linear layer's row) gives :math:`I' = -I`,
  hence :math:`U' = -U` (the update is linear and :math:`\Omega` is odd in the
  carried membrane for ``"sincos"``, ``"none"``, and for every projection without a
  lateral membrane), and :math:`\Theta(U' - \vartheta')` with
  :math:`\vartheta' = -\vartheta = (V_{\rm thr} - c)/|a|`;
* :math:`\vartheta' \le 0`: a channel whose resting membrane (0) already sits at or
  above its threshold: it fires with no input, and its first reset of a run is
  active (:math:`R_0 = \Theta(0 - \vartheta') = 1`). The fold keeps the exact
  value (ProjLeaky's constructor refuses thresholds :math:`\le 0`, so the fold
  writes the buffer afterwards) and warns with the count;
  ``fold_membrane_bn(..., nonpositive="error")`` refuses instead;
* :math:`a = 0` (:math:`\gamma = 0`): the firing does not depend on the membrane:
  :class:`ValueError` naming the channel.

In the unfolded network at inference the firing is computed as
:math:`\Theta(\operatorname{sign}(a)(U - \vartheta))`, algebraically
:math:`\Theta(aU + c - V_{\rm thr})`, and with the same rounding as the folded
network: the two give bit-identical spikes and logits
(``tests/train/techniques/test_membrane_bn.py``).
Not folded exactly: a lateral membrane into a ``"nested"`` or ``"mean"`` projection
of a channel with :math:`a < 0` (the projection is not odd there):
:func:`fold_membrane_bn` refuses it with :class:`ValueError`.

At ``T=1`` without windows the membrane *is* the current, already batch-normed by
the synapse's batch norm, so MPBN adds a learnable per-channel threshold and
surrogate scale; with windows or ``T > 1`` it normalises the integrated membrane.

Example::

    >>> import torch
    >>> from snntorch_ms.models import build_model
    >>> net = add_membrane_bn(build_model("convnet", "leaky", in_channels=1, image_size=8,
    ...                                   width=0.125))
    >>> _ = net.train()(torch.rand(8, 1, 8, 8))          # running statistics move
    >>> net = net.eval()
    >>> folded = fold_membrane_bn(net)
    >>> x = torch.rand(4, 1, 8, 8)
    >>> torch.equal(net(x), folded(x)), has_membrane_bn(folded)
    (True, False)
"""

from __future__ import annotations

import copy
import warnings

import torch
from torch import nn

from ..._neurons.membrane_bn import MembraneBN
from ...functional.membrane_bn import folded_threshold, membrane_affine
from ...models.neurons import NeuronAdapter
from ...utils import reset

__all__ = ["MembraneBN", "add_membrane_bn", "fold_membrane_bn", "has_membrane_bn"]


def has_membrane_bn(model: nn.Module) -> bool:
    r"""Whether ``model`` contains a :class:`MembraneBN` neuron.

    .. math::

        \exists\, m \in \text{model}: m \text{ is } \mathrm{MembraneBN}

    Example::

        >>> from snntorch_ms.models import build_model
        >>> has_membrane_bn(build_model("convnet", "leaky", in_channels=1, image_size=8))
        False
    """
    return any(isinstance(m, MembraneBN) for m in model.modules())


def add_membrane_bn(model: nn.Module) -> nn.Module:
    r"""Give every spiking neuron of a model of :mod:`snntorch_ms.models` a membrane
    batch norm before its threshold (in place; returns ``model``).

    .. math::

        S = \Theta(\mathrm{BN}(U) - V_{\rm thr})

    Each :class:`~snntorch_ms.models.neurons.NeuronAdapter` of kind ``"proj"`` or
    ``"leaky"`` gets its neuron wrapped in :class:`MembraneBN` (ReLU twins are left
    alone). Also ``TrainConfig(membrane_bn=True)`` / ``--membrane-bn``.

    Example::

        >>> from snntorch_ms.models import build_model
        >>> net = add_membrane_bn(build_model("convnet", "proj", in_channels=1, image_size=8))
        >>> sum(isinstance(m, MembraneBN) for m in net.modules())
        6

    :param model: the model
    :type model: torch.nn.Module
    :rtype: torch.nn.Module
    :raises ValueError: for an adapter that does not know its channel count
    """
    for name, adapter in model.named_modules():
        if not isinstance(adapter, NeuronAdapter) or adapter.kind == "relu" \
                or isinstance(adapter.neuron, MembraneBN):
            continue
        if adapter.channels is None:
            raise ValueError(f"{name}: the neuron does not know its channel count, so it "
                             "cannot get a membrane batch norm")
        adapter.neuron = MembraneBN(adapter.neuron, adapter.channels)
    return model


def _synapses(model: nn.Module):
    """``{id(adapter): (module, kind)}``: the affine module that feeds each adapter
    (a batch norm, or a linear layer) where the model's structure says so."""
    found = {}
    for module in model.modules():
        neuron, bn = getattr(module, "neuron", None), getattr(module, "bn", None)
        if isinstance(neuron, NeuronAdapter) and isinstance(bn, nn.modules.batchnorm._BatchNorm):
            found[id(neuron)] = bn
        fc_neuron, fc1 = getattr(module, "fc_neuron", None), getattr(module, "fc1", None)
        if isinstance(fc_neuron, NeuronAdapter) and isinstance(fc1, nn.Linear):
            found[id(fc_neuron)] = fc1
    return found


def _set_threshold(neuron: nn.Module, value: torch.Tensor) -> None:
    """Write a per-channel threshold into a neuron (buffer or parameter), bypassing
    the constructor's ``threshold > 0`` check (see the module docs)."""
    if isinstance(neuron.threshold, nn.Parameter):
        neuron.threshold = nn.Parameter(value.clone())
    else:
        del neuron.threshold
        neuron.register_buffer("threshold", value.clone())


@torch.no_grad()
def fold_membrane_bn(model: nn.Module, *, nonpositive: str = "keep") -> nn.Module:
    r"""A copy of ``model`` with every :class:`MembraneBN` folded away: each becomes
    its plain neuron with the per-channel threshold :math:`\vartheta'`, channels of
    negative scale with their synapse negated (see the module docs).

    .. math::

        \vartheta' = \frac{V_{\rm thr} - c}{|a|}, \qquad
        (\gamma_{\rm syn}, \beta_{\rm syn}) \leftarrow -(\gamma_{\rm syn}, \beta_{\rm syn})
        \text{ where } a < 0

    The copy is in eval mode and spikes bit for bit as ``model.eval()`` does; the
    energy report prices it (:func:`~snntorch_ms.train.measure_model_energy` folds
    first).

    Example::

        >>> import torch
        >>> from snntorch_ms.models import build_model
        >>> net = add_membrane_bn(build_model("convnet", "leaky", in_channels=1,
        ...                                   image_size=8, width=0.125)).eval()
        >>> _ = net(torch.rand(2, 1, 8, 8))     # the neurons learn their input's shape
        >>> folded = fold_membrane_bn(net)
        >>> folded.features[0].neuron.neuron.threshold.flatten().tolist()   # (1 - 0) sqrt(1 + eps)
        [1.0000050067901611, 1.0000050067901611, 1.0000050067901611, 1.0000050067901611]

    :param model: a model with :class:`MembraneBN` neurons (not changed, but for its
        neurons' states, which are reset)
    :type model: torch.nn.Module
    :param nonpositive: ``"keep"`` (exact; warns with the count of channels whose
        folded threshold is :math:`\le 0`) or ``"error"``. Defaults to ``"keep"``
    :type nonpositive: str, optional
    :return: the folded copy, in eval mode
    :rtype: torch.nn.Module
    :raises ValueError: for a zero scale, a negative scale with no known synapse or
        with a lateral membrane into a non-odd projection, or ``nonpositive="error"``
        with a threshold :math:`\le 0`
    """
    if nonpositive not in ("keep", "error"):
        raise ValueError(f"nonpositive must be 'keep' or 'error', got {nonpositive!r}")
    reset(model)  # the neurons' states may hold graphs, which do not deep-copy
    folded = copy.deepcopy(model).eval()
    synapses = _synapses(folded)
    lateral = bool(getattr(folded, "lateral", False))
    low = 0
    for name, adapter in folded.named_modules():
        if not isinstance(adapter, NeuronAdapter) or not isinstance(adapter.neuron, MembraneBN):
            continue
        m = adapter.neuron
        a, c = membrane_affine(None, m.weight, m.bias, m.running_mean, m.running_var, m.eps)
        if bool((a == 0).any()):
            raise ValueError(f"{name}: membrane batch norm scale is 0 in channel(s) "
                             f"{torch.nonzero(a == 0).flatten().tolist()}: the firing does not "
                             "depend on the membrane there, so it has no threshold to fold into")
        v_th = m.neuron.threshold
        if v_th.numel() > 1:
            v_th = v_th.reshape(-1)
        theta_raw = folded_threshold(a, c, v_th)
        sign = torch.sign(a)
        if bool((sign < 0).any()):
            synapse = synapses.get(id(adapter))
            if synapse is None:
                raise ValueError(f"{name}: negative membrane batch-norm scale in channel(s) "
                                 f"{torch.nonzero(sign < 0).flatten().tolist()} and no known "
                                 "synapse to negate (supported: conv/linear -> batch norm -> "
                                 "neuron units and the VGG head)")
            proj = getattr(m.neuron, "projection", "none")
            if lateral and proj not in ("sincos", "none"):
                raise ValueError(f"{name}: a negative scale with a lateral membrane into "
                                 f"projection={proj!r} (not odd in the membrane) does not fold "
                                 "exactly")
            # per output channel: a batch norm's [C], a linear layer's rows [C, F]
            synapse.weight.mul_(sign.reshape(-1, *([1] * (synapse.weight.dim() - 1))))
            if synapse.bias is not None:
                synapse.bias.mul_(sign)
        threshold = sign * theta_raw
        low += int((threshold <= 0).sum())
        neuron = m.neuron
        if int(m.input_rank) == 0:
            raise ValueError(f"{name}: run the model once before folding (the neuron has "
                             "not seen an input, so the threshold's shape is unknown)")
        shape = (-1, 1, 1) if int(m.input_rank) >= 4 else (-1,)
        _set_threshold(neuron, threshold.reshape(shape).to(neuron.threshold.dtype))
        adapter.neuron = neuron
    if low:
        if nonpositive == "error":
            raise ValueError(f"{low} channel(s) fold to a threshold <= 0 (they fire at rest)")
        warnings.warn(f"fold_membrane_bn: {low} channel(s) fold to a threshold <= 0: they fire "
                      "with no input (kept exact)", UserWarning, stacklevel=2)
    return folded
