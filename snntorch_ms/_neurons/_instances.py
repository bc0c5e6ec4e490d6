"""snntorch's class-wide neuron list, from the outside."""

from __future__ import annotations


def forget(neuron) -> None:
    """Drop ``neuron`` from every class-wide ``instances`` list of snntorch
    (``SpikingNeuron.instances``, or a class's own list after ``Leaky.init()``)."""
    for klass in type(neuron).__mro__:
        instances = klass.__dict__.get("instances")
        if isinstance(instances, list):
            instances[:] = [n for n in instances if n is not neuron]
