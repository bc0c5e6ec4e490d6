"""Small helpers: resetting neuron state, and setting the engine of every neuron,
inside one network."""

from __future__ import annotations

from typing import Optional

import torch
from snntorch._neurons.neurons import SpikingNeuron

__all__ = ["reset", "set_backend", "spiking_neurons"]


def spiking_neurons(net: torch.nn.Module):
    """Every snntorch (and snntorch-ms) neuron inside ``net``, at any depth, with
    its qualified name, in module order.

    Example::

        >>> import snntorch as snn
        >>> from snntorch_ms import ProjLeaky
        >>> net = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), ProjLeaky(0.5))
        >>> [name for name, _ in spiking_neurons(net)]
        ['1']

    :param net: the network to search (``net`` itself included, named ``""``)
    :type net: torch.nn.Module
    :return: the ``(name, neuron)`` pairs of every
        :class:`snntorch._neurons.neurons.SpikingNeuron` inside ``net``
    :rtype: list(tuple(str, torch.nn.Module))
    """
    return [(name, m) for name, m in net.named_modules() if isinstance(m, SpikingNeuron)]


def reset(net: torch.nn.Module) -> torch.nn.Module:
    r"""Reset the hidden state of every spiking neuron inside ``net`` to zero and
    detach it from the graph.

    Unlike :func:`snntorch.utils.reset`, which looks at ``net``'s direct children
    and then resets *every* instance of those classes in the process, this walks
    ``net`` at any depth and touches nothing outside it:

    .. math::

        U \leftarrow 0 \quad \text{for every neuron } U \in \text{net}

    Each neuron's own ``reset_mem`` is used, so the state variables of every
    snntorch neuron (``mem``, ``syn``, ``spk``, ...) are cleared. Returns ``net``.

    Example::

        >>> from snntorch_ms import ProjLeaky
        >>> net = torch.nn.Sequential(ProjLeaky(0.5, init_hidden=True))
        >>> _ = net(torch.ones(1, 1, 4, 4))
        >>> float(net[0].mem.abs().sum()) > 0
        True
        >>> float(reset(net)[0].mem.abs().sum())
        0.0

    :param net: the network whose neurons are reset (in place)
    :type net: torch.nn.Module
    :return: ``net`` itself
    :rtype: torch.nn.Module
    """
    for _, neuron in spiking_neurons(net):
        if hasattr(neuron, "reset_mem"):
            neuron.reset_mem()
    return net


def set_backend(net: torch.nn.Module, backend: str,
                fallback: Optional[str] = None) -> torch.nn.Module:
    r"""Set ``backend`` on every neuron inside ``net`` (at any depth, ``net``
    itself included) that has that setting: every
    :class:`~snntorch_ms.ProjLeaky`. Each neuron checks the value as its own
    ``backend`` setter does (``"auto"``, ``"reference"``, ``"eager"``,
    ``"compiled"`` or ``"triton"``; an engine its options cannot use raises);
    without ``fallback`` nothing is changed unless every neuron accepts it. With
    ``fallback`` (e.g. ``"auto"``), a neuron that refuses ``backend`` gets
    ``fallback`` instead: ``set_backend(resnet, "triton", fallback="auto")`` runs the
    Triton kernels wherever a neuron has windows and lets the classifier's
    window-free neuron pick its own engine. Returns ``net``.

    Every engine computes the same time step,

    .. math::

        (S_t, U_t) = \mathrm{recompose}\big(\mathrm{scan}_{p=1..g}(I_p, U_{p-1}, L_{p-1})\big),

    the reference path by autograd over the pure functions, the others as one
    fused autograd function.

    Example::

        >>> from snntorch_ms import ProjLeaky
        >>> net = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1),
        ...                           ProjLeaky(0.5, init_hidden=True))
        >>> set_backend(net, "reference")[1].backend
        'reference'

    :param net: the network (changed in place)
    :type net: torch.nn.Module
    :param backend: the engine setting
    :type backend: str
    :param fallback: the setting of the neurons that refuse ``backend``. Defaults to
        None (all or nothing)
    :type fallback: str, optional
    :return: ``net`` itself
    :rtype: torch.nn.Module
    :raises ValueError: for an unknown backend, or one that a neuron's options cannot
        use (and, with ``fallback``, that the fallback cannot use either)
    """
    neurons = [m for _, m in spiking_neurons(net) if hasattr(type(m), "backend")]
    old = [m.backend for m in neurons]
    try:
        for m in neurons:
            try:
                m.backend = backend
            except (ValueError, ImportError):
                if fallback is None:
                    raise
                m.backend = fallback
    except Exception:
        for m, value in zip(neurons, old):
            m.backend = value
        raise
    return net
