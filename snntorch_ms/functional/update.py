r"""The neuron update of one window sub-step and the scan over the windows of one
time step, as pure tensor functions.

Window sub-step ``p`` of a time step (``C_p`` the projected carried membrane,
``R_{p-1}`` the detached Heaviside of ``U_{p-1} - threshold``):

* ``"subtract"``: :math:`U_p = \beta C_p + I_p - \vartheta R_{p-1}`
* ``"zero"``: :math:`U_p = \beta (1 - R_{p-1}) C_p + I_p`
* ``"none"``: :math:`U_p = \beta C_p + I_p`

and :math:`S_p = \Theta(U_p - \vartheta) \cdot s` with a surrogate gradient.
"""

from __future__ import annotations

from typing import Callable, List, Optional, Tuple

import torch

from . import spec

__all__ = ["RESET_MECHANISMS", "reset_signal", "membrane_update", "neuron_step", "window_scan"]

#: Reset mechanisms, with snntorch's meaning (:data:`snntorch_ms.functional.spec.RESETS`).
RESET_MECHANISMS = spec.RESETS


def reset_signal(mem: torch.Tensor, threshold, spike_fn: Callable) -> torch.Tensor:
    r"""The delayed reset signal, detached from the graph, computed exactly as
    snntorch's ``mem_reset``.

    .. math::

        R = \Theta(U - \vartheta), \qquad \frac{\partial R}{\partial U} = 0
        \quad (\text{detached})

    Example::

        >>> from snntorch import surrogate
        >>> reset_signal(torch.tensor([0.5, 1.5]), 1.0, surrogate.atan())
        tensor([0., 1.])

    :param mem: the membrane :math:`U`
    :type mem: torch.Tensor
    :param threshold: the threshold :math:`\vartheta`, scalar or broadcastable to ``mem``
    :type threshold: float or torch.Tensor
    :param spike_fn: the firing function (a surrogate's closure, e.g.
        :func:`snntorch.surrogate.atan`), applied to :math:`U - \vartheta`
    :type spike_fn: callable
    :return: :math:`R`, shape of ``mem``, without gradient
    :rtype: torch.Tensor
    """
    return spike_fn(mem - threshold).clone().detach()


def membrane_update(cur: torch.Tensor, carried: torch.Tensor, reset: torch.Tensor,
                    beta, threshold, reset_mechanism: str = "subtract") -> torch.Tensor:
    r"""One sub-step of the membrane, with :math:`\beta` clipped to ``[0, 1]``
    as snntorch's Leaky does.

    .. math::

        U_p = \begin{cases}
        \beta C_p + I_p - \vartheta R_{p-1} & \text{subtract} \\
        \beta (1 - R_{p-1}) C_p + I_p & \text{zero} \\
        \beta C_p + I_p & \text{none}
        \end{cases}

    Example::

        >>> membrane_update(torch.tensor(0.5), torch.tensor(2.0), torch.tensor(1.0),
        ...                 torch.tensor(0.5), 1.0, "subtract")
        tensor(0.5000)
        >>> membrane_update(torch.tensor(0.5), torch.tensor(2.0), torch.tensor(1.0),
        ...                 torch.tensor(0.5), 1.0, "zero")
        tensor(0.5000)

    :param cur: the input current :math:`I_p`
    :type cur: torch.Tensor
    :param carried: the projected carried membrane :math:`C_p`
    :type carried: torch.Tensor
    :param reset: the reset signal :math:`R_{p-1}` (see :func:`reset_signal`)
    :type reset: torch.Tensor
    :param beta: the decay rate :math:`\beta`, clipped to ``[0, 1]``; scalar or
        broadcastable to ``cur``
    :type beta: float or torch.Tensor
    :param threshold: the threshold :math:`\vartheta`, scalar or broadcastable to ``cur``
    :type threshold: float or torch.Tensor
    :param reset_mechanism: ``"subtract"``, ``"zero"`` or ``"none"``. Defaults to
        ``"subtract"``
    :type reset_mechanism: str, optional
    :return: the membrane :math:`U_p`
    :rtype: torch.Tensor
    :raises ValueError: for an unknown ``reset_mechanism``
    """
    if reset_mechanism not in RESET_MECHANISMS:
        raise ValueError(
            f"unknown reset_mechanism={reset_mechanism!r}: expected one of {RESET_MECHANISMS}"
        )
    beta = torch.as_tensor(beta).clamp(0, 1)
    # the spec keeps snntorch.Leaky's operation order, so the two agree bit for bit
    return spec.membrane(beta * carried, cur, reset, threshold, spec.reset_id(reset_mechanism))


def window_scan(
    cur: torch.Tensor,
    carried: torch.Tensor,
    lateral: Optional[torch.Tensor],
    *,
    beta,
    threshold,
    theta,
    projection: Callable,
    spike_fn: Callable,
    reset_mechanism: str = "subtract",
    graded_spikes_factor=1.0,
    state_quant: Optional[Callable] = None,
    reset_delay: bool = True,
    fire: Optional[Callable] = None,
) -> Tuple[torch.Tensor, torch.Tensor]:
    r"""Run the ``g`` window sub-steps of one time step.

    ``cur`` and ``lateral`` are window stacks ``[B, g, ...]``; ``carried`` is the
    membrane ``[B, ...]`` left by the last window of the previous time step.
    For :math:`p = 1..g`:

    .. math::

        C_p &= \begin{cases} \Omega(U_{p-1}) & p = 1 \text{ or no lateral} \\
                \Omega(U_{p-1}, L_{p-1}) & \text{otherwise} \end{cases} \\
        R_{p-1} &= \Theta(U_{p-1} - \vartheta) \quad (\text{detached}) \\
        U_p &= \text{membrane\_update}(I_p, C_p, R_{p-1}) \\
        S_p &= \Theta(U_p - \vartheta)\, s

    with :math:`U_0` = ``carried``. ``reset_delay=False`` subtracts (or zeroes)
    at the sub-step that fires, as snntorch does per time step. ``fire``
    replaces the firing function (used for snntorch's ``inhibition``).

    Returns the spike stack and the membrane stack, both ``[B, g, ...]``.

    Example::

        >>> from snntorch import surrogate
        >>> from snntorch_ms.functional import get_projection
        >>> spk, mem = window_scan(torch.ones(1, 2, 1), torch.zeros(1, 1), None,
        ...     beta=torch.tensor(0.5), threshold=1.5, theta=0.5,
        ...     projection=get_projection("none"), spike_fn=surrogate.atan())
        >>> mem.flatten().tolist(), spk.flatten().tolist()
        ([1.0, 1.5], [0.0, 0.0])

    :param cur: the input currents :math:`I_p`, a window stack ``[B, g, ...]``
    :type cur: torch.Tensor
    :param carried: the membrane :math:`U_0` ``[B, ...]`` left by the last window
        of the previous time step
    :type carried: torch.Tensor
    :param lateral: the previous layer's membranes :math:`L_p` ``[B, g, ...]``, or None
    :type lateral: torch.Tensor or None
    :param beta: the decay rate :math:`\beta` (see :func:`membrane_update`)
    :type beta: float or torch.Tensor
    :param threshold: the threshold :math:`\vartheta`
    :type threshold: float or torch.Tensor
    :param theta: the projection scale :math:`\theta`, passed to ``projection``
    :type theta: float or torch.Tensor
    :param projection: the projection :math:`\Omega`, a function ``f(a, b, theta)``
        (see :func:`~snntorch_ms.functional.get_projection`)
    :type projection: callable
    :param spike_fn: the firing function (a surrogate's closure), applied to
        :math:`U - \vartheta`
    :type spike_fn: callable
    :param reset_mechanism: ``"subtract"``, ``"zero"`` or ``"none"``. Defaults to
        ``"subtract"``
    :type reset_mechanism: str, optional
    :param graded_spikes_factor: the spike magnitude :math:`s`. Defaults to 1.0
    :type graded_spikes_factor: float or torch.Tensor, optional
    :param state_quant: quantization applied to the membrane after each sub-step.
        Defaults to None (no quantization)
    :type state_quant: callable, optional
    :param reset_delay: reset at the sub-step after the one that fires (snntorch's
        default), instead of at the sub-step that fires. Defaults to True
    :type reset_delay: bool, optional
    :param fire: replaces ``spike_fn(U - threshold) * s`` as the firing function.
        Defaults to None
    :type fire: callable, optional
    :return: the spike stack and the membrane stack, both ``[B, g, ...]``
    :rtype: tuple(torch.Tensor, torch.Tensor)
    """
    spikes: List[torch.Tensor] = []
    mems: List[torch.Tensor] = []
    groups = cur.shape[1]
    # R_{p-1} is the Heaviside of U_{p-1} - threshold, which the firing of sub-step p-1
    # already computed: reuse it unless the membrane changed after firing
    reuse_spike = not state_quant and reset_delay and fire is None
    last_fired = None
    for p in range(groups):
        b = lateral[:, p - 1] if (lateral is not None and p > 0) else None
        if last_fired is not None:
            reset = last_fired.detach()
        else:
            reset = reset_signal(carried, threshold, spike_fn)
        spk, mem, fired = _substep(
            cur[:, p], carried, b, reset, beta, threshold, theta, projection, spike_fn,
            reset_mechanism, graded_spikes_factor, state_quant, reset_delay, fire)
        last_fired = fired if reuse_spike else None
        spikes.append(spk)
        mems.append(mem)
        carried = mem
    return torch.stack(spikes, dim=1), torch.stack(mems, dim=1)


def _substep(cur, carried, lateral, reset, beta, threshold, theta, projection, spike_fn,
             reset_mechanism, graded_spikes_factor, state_quant, reset_delay, fire):
    """One sub-step: ``(spikes, membrane, firing before the graded factor or None)``."""
    projected = projection(carried, lateral, theta)
    mem = membrane_update(cur, projected, reset, beta, threshold, reset_mechanism)
    if state_quant:
        mem = state_quant(mem)
    fired = None
    if fire is not None:
        spk = fire(mem)
    else:
        fired = spike_fn((state_quant(mem) if state_quant else mem) - threshold)
        spk = fired * graded_spikes_factor
    if not reset_delay:
        do_reset = spk / graded_spikes_factor - reset  # avoid a double reset
        if reset_mechanism == "subtract":
            mem = mem - do_reset * threshold
        elif reset_mechanism == "zero":
            mem = mem - do_reset * mem
    return spk, mem, fired


def neuron_step(
    cur: torch.Tensor,
    carried: torch.Tensor,
    *,
    beta,
    threshold,
    theta,
    projection: Callable,
    spike_fn: Callable,
    reset_mechanism: str = "subtract",
    graded_spikes_factor=1.0,
    state_quant: Optional[Callable] = None,
    reset_delay: bool = True,
    fire: Optional[Callable] = None,
) -> Tuple[torch.Tensor, torch.Tensor]:
    r"""One time step of a neuron without windows, on a tensor of any shape
    (0-dim included): the single sub-step of :func:`window_scan` with no
    window stack and no lateral membrane.

    .. math::

        R &= \Theta(U_{t-1} - \vartheta) \quad (\text{detached}), \qquad
        C = \Omega(U_{t-1}) \\
        U_t &= \text{membrane\_update}(I_t, C, R), \qquad
        S_t = \Theta(U_t - \vartheta)\, s

    With ``projection=get_projection("none")`` this is snntorch's Leaky update,
    operation for operation. The returned membrane is a tensor of its own, never
    a view, so that it can be detached in place.

    Example::

        >>> from snntorch import surrogate
        >>> from snntorch_ms.functional import get_projection
        >>> spk, mem = neuron_step(torch.tensor(1.2), torch.tensor(0.4), beta=0.5,
        ...     threshold=1.0, theta=0.5, projection=get_projection("none"),
        ...     spike_fn=surrogate.atan())
        >>> round(mem.item(), 4), spk.item()
        (1.4, 1.0)

    :param cur: the input current :math:`I_t`, any shape
    :type cur: torch.Tensor
    :param carried: the membrane :math:`U_{t-1}`, shape of ``cur``
    :type carried: torch.Tensor
    :return: the spikes :math:`S_t` and the membrane :math:`U_t`
    :rtype: tuple(torch.Tensor, torch.Tensor)

    The other parameters are those of :func:`window_scan`.
    """
    reset = reset_signal(carried, threshold, spike_fn)
    spk, mem, _ = _substep(cur, carried, None, reset, beta, threshold, theta, projection,
                           spike_fn, reset_mechanism, graded_spikes_factor, state_quant,
                           reset_delay, fire)
    return spk, mem
