"""Small helpers: resetting neuron state inside one network."""

from __future__ import annotations

import torch
from snntorch._neurons.neurons import SpikingNeuron

__all__ = ["reset", "spiking_neurons"]


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
