r"""Membrane batch normalisation before the threshold (MPBN), as pure tensor
functions: the per-channel affine map of a batch norm, the threshold it folds into,
and the window sub-steps of one time step with the membrane normalised before firing.

.. math::

    \hat U_p = a\,U_p + c, \qquad a = \frac{\gamma}{\sqrt{\sigma^2 + \epsilon}}, \qquad
    c = \beta_{\rm bn} - a\,\mu, \qquad S_p = \Theta(\hat U_p - V_{\rm thr})\, s

The neuron that uses them is :class:`~snntorch_ms._neurons.membrane_bn.MembraneBN`;
adding it to a network and folding it away for inference is a training technique
(:mod:`snntorch_ms.train.techniques.membrane_bn`, where the definition and the fold's
exactness are explained).

Example::

    >>> import torch
    >>> a, c = membrane_affine(None, torch.ones(2), torch.zeros(2), torch.zeros(2),
    ...                        torch.ones(2), eps=0.0, shape=(2,))
    >>> folded_threshold(a, c, 1.0).tolist()
    [1.0, 1.0]
"""

from __future__ import annotations

from typing import Callable, List, Optional, Tuple

import torch

from .update import membrane_update

__all__ = ["membrane_affine", "folded_threshold", "mpbn_scan", "channel_shape"]


def channel_shape(u: torch.Tensor) -> Tuple[int, ...]:
    r"""Shape of a per-channel value broadcast against ``u``: ``[C, 1, 1]`` for maps
    and window stacks (channels at -3), ``[C]`` for vectors ``[B, C]``.

    .. math::

        x \in \mathbb{R}^{B \times C \times H \times W} \mapsto (C, 1, 1), \qquad
        x \in \mathbb{R}^{B \times C} \mapsto (C,)

    Example::

        >>> channel_shape(torch.zeros(2, 3, 4, 4)), channel_shape(torch.zeros(2, 5))
        ((3, 1, 1), (5,))

    :raises ValueError: for any other rank
    """
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
    shape = channel_shape(u) if u is not None else (shape or (weight.numel(),))
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
        >>> from snntorch_ms.functional.projection import get_projection
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
