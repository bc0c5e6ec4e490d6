r"""Membrane batch normalisation before the threshold (MPBN), and its fold into a
per-channel threshold for inference.

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
network: the two give bit-identical spikes and logits (``tests/models/test_mpbn.py``).
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
import math
import warnings
from typing import Callable, List, Optional, Tuple

import torch
from torch import nn

from .._neurons import ProjLeaky
from ..functional.projection import get_projection
from ..functional.update import membrane_update
from ..functional.windows import cut_windows, recompose_membrane, recompose_spikes, window_boxes
from ..utils import reset
from .neurons import NeuronAdapter

__all__ = ["membrane_affine", "folded_threshold", "mpbn_scan", "MembraneBN",
           "add_membrane_bn", "fold_membrane_bn", "has_membrane_bn"]


def _channel_shape(u: torch.Tensor) -> Tuple[int, ...]:
    """Shape of a per-channel value broadcast against ``u``: ``[C, 1, 1]`` for maps
    and window stacks (channels at -3), ``[C]`` for vectors ``[B, C]``."""
    if u.dim() >= 4:
        return (u.shape[-3], 1, 1)
    if u.dim() == 2:
        return (u.shape[-1],)
    raise ValueError(f"membrane batch norm needs a map [B, C, H, W], a window stack "
                     f"[B, g, C, h, w] or a vector [B, C]; got shape {tuple(u.shape)}")


def membrane_affine(u: Optional[torch.Tensor], weight: torch.Tensor, bias: torch.Tensor,
                    mean: torch.Tensor, var: torch.Tensor, eps: float = 1e-5,
                    shape: Optional[Tuple[int, ...]] = None):
    r"""The per-channel affine map of a batch norm, :math:`\hat U = a U + c`.

    .. math::

        a = \frac{\gamma}{\sqrt{\sigma^2 + \epsilon}}, \qquad c = \beta_{\rm bn} - a\mu

    ``mean`` and ``var`` are the statistics to use (batch or running); the result
    is shaped to broadcast against ``u`` (``[C, 1, 1]`` for maps and stacks,
    ``[C]`` for vectors), or to ``shape`` when ``u`` is None.

    Example::

        >>> a, c = membrane_affine(None, torch.tensor([2.0]), torch.tensor([1.0]),
        ...                        torch.tensor([3.0]), torch.tensor([4.0]), eps=0.0,
        ...                        shape=(1,))
        >>> a.item(), c.item()       # 2 / 2, 1 - 1 x 3
        (1.0, -2.0)

    :param u: the membrane (for the shape), or None
    :type u: torch.Tensor or None
    :param weight: :math:`\gamma` ``[C]``
    :param bias: :math:`\beta_{\rm bn}` ``[C]``
    :param mean: :math:`\mu` ``[C]``
    :param var: :math:`\sigma^2` ``[C]`` (biased, as batch norm normalises)
    :param eps: :math:`\epsilon`. Defaults to 1e-5
    :param shape: the result's shape when ``u`` is None. Defaults to None
    :return: ``(a, c)``
    :rtype: tuple(torch.Tensor, torch.Tensor)
    """
    shape = _channel_shape(u) if u is not None else (shape or (weight.numel(),))
    a = weight / torch.sqrt(var + eps)
    c = bias - a * mean
    return a.reshape(shape), c.reshape(shape)


def folded_threshold(a: torch.Tensor, c: torch.Tensor, v_th) -> torch.Tensor:
    r"""The threshold on the raw membrane equivalent to :math:`aU + c \ge V_{\rm thr}`.

    .. math::

        \vartheta = \frac{V_{\rm thr} - c}{a}

    (for :math:`a < 0` the firing is :math:`U \le \vartheta`; see the module docs).

    Example::

        >>> folded_threshold(torch.tensor([2.0, -0.5]), torch.tensor([0.0, 0.5]), 1.0)
        tensor([ 0.5000, -1.0000])

    :param a: the scale :math:`a`
    :param c: the shift :math:`c`
    :param v_th: the normalised threshold :math:`V_{\rm thr}`
    :rtype: torch.Tensor
    """
    return (v_th - c) / a


def mpbn_scan(cur: torch.Tensor, carried: torch.Tensor, lateral: Optional[torch.Tensor], *,
              beta, v_th, theta, projection: Callable, spike_fn: Callable,
              reset_mechanism: str, graded_spikes_factor, affine: Callable,
              rest_affine: Tuple[torch.Tensor, torch.Tensor],
              training: bool) -> Tuple[torch.Tensor, torch.Tensor]:
    r"""The window sub-steps of one time step with the membrane normalised before
    the threshold (see the module docs for the definition).

    .. math::

        U_p &= \text{membrane\_update}(I_p, \Omega(U_{p-1}, L_{p-1}), R_{p-1};
               \vartheta_{p-1}), \qquad (a_p, c_p) = \text{affine}(U_p) \\
        S_p &= \Theta(a_p U_p + c_p - V_{\rm thr})\, s \;\text{(training)}, \qquad
        \Theta(\operatorname{sign}(a)(U_p - \vartheta))\, s \;\text{(inference)}

    with :math:`\vartheta_p = (V_{\rm thr} - c_p)/a_p` (detached) and :math:`R_p`
    the detached spike of sub-step :math:`p`; :math:`R_0` and :math:`\vartheta_0`
    come from ``rest_affine`` (the running statistics).

    Example::

        >>> from snntorch import surrogate
        >>> one = (torch.ones(1), torch.zeros(1))
        >>> spk, mem = mpbn_scan(torch.tensor([[[1.5], [0.2]]]), torch.zeros(1, 1), None,
        ...     beta=torch.tensor(0.5), v_th=1.0, theta=0.5, projection=get_projection("none"),
        ...     spike_fn=surrogate.atan(), reset_mechanism="subtract",
        ...     graded_spikes_factor=1.0, affine=lambda u: one, rest_affine=one,
        ...     training=False)
        >>> spk.flatten().tolist(), mem.flatten().tolist()   # 1.5 fires; 0.75 + 0.2 - 1
        ([1.0, 0.0], [1.5, -0.050000011920928955])

    :param cur: input currents, a stack ``[B, g, ...]``
    :param carried: membrane ``[B, ...]`` left by the previous time step
    :param lateral: lateral membranes ``[B, g, ...]`` or None
    :param beta: decay rate
    :param v_th: the normalised threshold :math:`V_{\rm thr}`
    :param theta: projection scale
    :param projection: :math:`\Omega`, ``f(a, b, theta)``
    :param spike_fn: the surrogate's firing function
    :param reset_mechanism: ``"subtract"``, ``"zero"`` or ``"none"``
    :param graded_spikes_factor: spike magnitude :math:`s`
    :param affine: ``u -> (a, c)`` for a sub-step's membrane (batch statistics in
        training, running ones at inference)
    :param rest_affine: ``(a, c)`` of the running statistics
    :param training: batch-statistics firing (True) or the inference form
    :return: spike and membrane stacks ``[B, g, ...]``
    :rtype: tuple(torch.Tensor, torch.Tensor)
    """
    a0, c0 = rest_affine
    thr = folded_threshold(a0, c0, v_th).detach()
    reset = spike_fn(torch.sign(a0) * (carried - thr)).detach()
    spikes: List[torch.Tensor] = []
    mems: List[torch.Tensor] = []
    for p in range(cur.shape[1]):
        b = lateral[:, p - 1] if (lateral is not None and p > 0) else None
        mem = membrane_update(cur[:, p], projection(carried, b, theta), reset, beta, thr,
                              reset_mechanism)
        a, c = affine(mem)
        thr = folded_threshold(a, c, v_th).detach()
        if training:
            fired = spike_fn(a * mem + c - v_th)
        else:
            fired = spike_fn(torch.sign(a) * (mem - thr))
        spikes.append(fired * graded_spikes_factor)
        mems.append(mem)
        reset = fired.detach()
        carried = mem
    return torch.stack(spikes, dim=1), torch.stack(mems, dim=1)


def _per_channel(value, shape):
    value = value if isinstance(value, torch.Tensor) else torch.as_tensor(value)
    return value if value.numel() == 1 else value.reshape(shape)


class MembraneBN(nn.Module):
    r"""A spiking neuron (:class:`snntorch.Leaky` or :class:`~snntorch_ms.ProjLeaky`,
    built with ``init_hidden=True, output=True``) with its membrane batch-normalised
    before the threshold (MPBN; see the module docs):

    .. math::

        S_p = \Theta\big(\mathrm{BN}(U_p) - V_{\rm thr}\big)\, s

    The neuron keeps its state (``neuron.mem``, so :func:`snntorch_ms.utils.reset`
    resets it), its ``beta``, projection, windows and reset; its ``threshold`` is
    :math:`V_{\rm thr}` in normalised units. ``forward(input_, lateral=None)``
    returns ``(spk, mem)`` in the input's layout. ProjLeaky's fused path is not
    used here (the folded network uses it again).

    Example::

        >>> import torch
        >>> from snntorch_ms.models import make_neuron
        >>> m = MembraneBN(make_neuron("leaky").neuron, channels=3)
        >>> spk, mem = m(torch.randn(4, 3, 2, 2))
        >>> spk.shape, m.running_mean.shape
        (torch.Size([4, 3, 2, 2]), torch.Size([3]))

    :param neuron: the neuron
    :type neuron: snntorch.Leaky or snntorch_ms.ProjLeaky
    :param channels: number of channels :math:`C`
    :type channels: int
    :param eps: :math:`\epsilon`. Defaults to 1e-5
    :type eps: float, optional
    :param momentum: running-statistics momentum. Defaults to 0.1
    :type momentum: float, optional
    :raises ValueError: for options the normalised neuron does not define
        (``inhibition``, ``state_quant``, ``reset_delay=False``)
    """

    def __init__(self, neuron: nn.Module, channels: int, eps: float = 1e-5,
                 momentum: float = 0.1):
        super().__init__()
        for name, bad in (("inhibition", getattr(neuron, "inhibition", False)),
                          ("state_quant", getattr(neuron, "state_quant", False)),
                          ("reset_delay=False", not getattr(neuron, "reset_delay", True))):
            if bad:
                raise ValueError(f"membrane batch norm does not support {name}")
        self.neuron = neuron
        self.channels = int(channels)
        self.eps = float(eps)
        self.momentum = float(momentum)
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.register_buffer("running_mean", torch.zeros(channels))
        self.register_buffer("running_var", torch.ones(channels))
        # rank of the inputs seen (0: not run yet): the folded threshold's shape
        self.register_buffer("input_rank", torch.zeros((), dtype=torch.long))

    @property
    def graded_spikes_factor(self):
        """The wrapped neuron's spike magnitude."""
        return self.neuron.graded_spikes_factor

    @property
    def condense(self):
        return getattr(self.neuron, "condense", "or")

    def extra_repr(self) -> str:
        return f"channels={self.channels}, eps={self.eps}, momentum={self.momentum}"

    def _affine(self, u: torch.Tensor):
        if not self.training:
            return membrane_affine(u, self.weight, self.bias, self.running_mean,
                                   self.running_var, self.eps)
        dims = [d for d in range(u.dim()) if d != (u.dim() - 3 if u.dim() >= 4 else 1)]
        mean = u.mean(dims)
        var = u.var(dims, unbiased=False)
        with torch.no_grad():
            n = u.numel() // max(1, mean.numel())
            unbiased = var * (n / (n - 1)) if n > 1 else var
            self.running_mean.mul_(1 - self.momentum).add_(self.momentum * mean.detach())
            self.running_var.mul_(1 - self.momentum).add_(self.momentum * unbiased.detach())
        return membrane_affine(u, self.weight, self.bias, mean, var, self.eps)

    def forward(self, input_: torch.Tensor, lateral: Optional[torch.Tensor] = None):
        n = self.neuron
        if int(self.input_rank) != input_.dim():
            self.input_rank.fill_(input_.dim())
        if n.mem.shape != input_.shape:
            n.mem = torch.zeros_like(input_)
        shape = _channel_shape(input_)
        proj = isinstance(n, ProjLeaky)
        windowed = proj and n.windowed
        options = dict(
            beta=_per_channel(n.beta, shape), v_th=_per_channel(n.threshold, shape),
            theta=_per_channel(n.theta, shape) if proj else 0.5,
            projection=n._project if proj else get_projection("none"),
            spike_fn=n.spike_grad, reset_mechanism=n.reset_mechanism,
            graded_spikes_factor=_per_channel(n.graded_spikes_factor, shape),
            affine=self._affine, training=self.training,
            rest_affine=membrane_affine(None, self.weight, self.bias, self.running_mean,
                                        self.running_var, self.eps, shape=shape))
        if windowed and input_.dim() == 4:
            size = input_.shape[-2:]
            t, b, l, r = window_boxes(size[0], size[1], n.windows, n.groups)[-1]
            cur = cut_windows(input_, n.windows, n.groups)
            lat = cut_windows(lateral, n.windows, n.groups) if lateral is not None else None
            spk, mem = mpbn_scan(cur, n.mem[..., t:b, l:r], lat, **options)
            spk = recompose_spikes(spk, size, n.windows, n.condense,
                                   magnitude=options["graded_spikes_factor"])
            mem = recompose_membrane(mem, size, n.windows)
        elif windowed:  # a window stack [B, g, C, h, w]
            spk, mem = mpbn_scan(input_, n.mem[:, -1], lateral, **options)
        else:  # one sub-step, elementwise
            spk, mem = mpbn_scan(input_.unsqueeze(1), n.mem, None, **options)
            spk, mem = spk[:, 0], mem[:, 0].clone()
        n.mem = mem
        return spk, mem


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
