r"""Convert an existing snntorch network: every :class:`snntorch.Leaky` becomes a
:class:`~snntorch_ms.ProjLeaky` with the same parameters and state.

A neuron that receives maps ``[B, C, H, W]`` (H, W >= 2) gets receptive-field
windows; every other one becomes the Leaky-exact twin (``windows=None,
projection="none"``), which computes what the Leaky did, spike for spike and
gradient for gradient. Which neuron sees what is found by running the network
once on an example batch (on a copy, so no state of the network changes), or
is said by the caller.
"""

from __future__ import annotations

import copy
import warnings
from typing import Callable, Collection, Dict, List, Optional, Tuple, Union

import torch
from snntorch import Leaky
from torch import nn

from ._neurons import ProjLeaky
from ._neurons._instances import forget
from ._neurons.projleaky import OWN_KEYWORDS

__all__ = ["convert_leaky", "WHERE"]

#: The named choices of :func:`convert_leaky`'s ``where``.
WHERE = ("maps", "all", "none")

# a Leaky's update is fixed by the state function chosen in its __init__, even if
# reset_mechanism is assigned later (snntorch quirk): read the one it really runs
_STATE_FUNCTIONS = {"_base_sub": "subtract", "_base_zero": "zero", "_base_int": "none"}

Where = Union[str, Callable[[str, Leaky], bool], Collection[str]]


def _leaky_modules(net: nn.Module) -> List[Tuple[str, Leaky]]:
    # exactly snntorch.Leaky: a subclass may change the update, so it is left alone
    return [(name, m) for name, m in net.named_modules() if type(m) is Leaky]


def _probe_maps(net: nn.Module, example) -> Dict[str, bool]:
    """For each Leaky's name: whether every input it received was a map >= 2x2.

    Runs a deep copy of ``net`` in eval mode without gradient, so the network's
    own states, BatchNorm statistics and the class-wide neuron list stay as they
    are. Leaky modules that never ran are left out."""
    # neuron states may be non-leaf tensors of a live graph, which deepcopy refuses:
    # the copy gets detached copies of every buffer
    memo = {id(buf): buf.detach().clone() for buf in net.buffers()}
    probe = copy.deepcopy(net, memo).eval()
    seen: Dict[str, bool] = {}
    handles = []
    for name, module in _leaky_modules(probe):
        def hook(_module, args, _name=name):
            x = args[0] if args else None
            is_map = (isinstance(x, torch.Tensor) and x.dim() == 4
                      and x.shape[-2] >= 2 and x.shape[-1] >= 2)
            seen[_name] = seen.get(_name, True) and is_map
        handles.append(module.register_forward_pre_hook(hook))
    try:
        with torch.no_grad():
            probe(*example) if isinstance(example, tuple) else probe(example)
    finally:
        for h in handles:
            h.remove()
    return seen


def _choose(where: Where, net: nn.Module, leakies: List[Tuple[str, Leaky]],
            example) -> Dict[str, bool]:
    """For each Leaky's name: whether it gets windows."""
    names = [name for name, _ in leakies]
    if isinstance(where, str):
        if where not in WHERE:
            raise ValueError(f"unknown where={where!r}: expected one of {WHERE}, a callable "
                             "f(name, leaky) -> bool, or a collection of module names")
        if where != "maps":
            return {n: where == "all" for n in names}
        if example is None:
            raise ValueError(
                "where='maps' needs an example input to see which neurons receive maps: "
                "pass example=<a batch the network accepts>, or say where windows go "
                "(where='all', 'none', a callable or a collection of module names)")
        # a Leaky that never ran on the example stays Leaky-exact
        return {n: False for n in names} | _probe_maps(net, example)
    if callable(where):
        return {name: bool(where(name, m)) for name, m in leakies}
    chosen = set(where)
    unknown = sorted(chosen - set(names))
    if unknown:
        raise ValueError(f"where names modules that are not snntorch.Leaky neurons of the "
                         f"network: {unknown}; its Leaky neurons are {names}")
    return {n: n in chosen for n in names}


def _tensor_and_learnable(value) -> Tuple[torch.Tensor, bool]:
    return value.detach().clone(), isinstance(value, nn.Parameter)


def _build(name: str, leaky: Leaky, windowed: bool, own: dict) -> ProjLeaky:
    beta, learn_beta = _tensor_and_learnable(leaky.beta)
    threshold, learn_threshold = _tensor_and_learnable(leaky.threshold)
    gsf, learn_gsf = _tensor_and_learnable(leaky.graded_spikes_factor)
    if windowed:
        for pname, value in (("beta", beta), ("threshold", threshold),
                             ("graded_spikes_factor", gsf)):
            if value.dim() == 1 and value.numel() > 1:
                raise ValueError(
                    f"cannot give windows to Leaky {name!r}: its {pname} is a 1-D vector of "
                    f"{value.numel()} values, which snntorch.Leaky broadcasts over the input's "
                    "last dimension but ProjLeaky with windows reads per channel; reshape it "
                    "to [C, 1, 1] for per-channel values, or keep this neuron Leaky-exact "
                    "(leave it out of `where`)")
    mechanism = leaky.reset_mechanism
    runs = _STATE_FUNCTIONS.get(getattr(leaky.state_function, "__name__", ""), mechanism)
    if runs != mechanism:
        warnings.warn(
            f"Leaky {name!r}: reset_mechanism was changed to {mechanism!r} after construction, "
            f"but snntorch.Leaky keeps updating with {runs!r}; the ProjLeaky uses "
            f"{mechanism!r}, as its reset_mechanism says", UserWarning, stacklevel=3)
    options = dict(own) if windowed else dict(windows=None, projection="none")
    try:
        neuron = ProjLeaky(
            beta,
            threshold,
            spike_grad=None if leaky.surrogate_disable else leaky.spike_grad,
            surrogate_disable=leaky.surrogate_disable,
            init_hidden=leaky.init_hidden,
            inhibition=leaky.inhibition,
            learn_beta=learn_beta,
            learn_threshold=learn_threshold,
            reset_mechanism=mechanism,
            state_quant=leaky.state_quant,
            output=leaky.output,
            graded_spikes_factor=gsf,
            learn_graded_spikes_factor=learn_gsf,
            reset_delay=leaky.reset_delay,
            **options,
        )
    except (ValueError, TypeError) as err:
        raise type(err)(f"cannot convert Leaky {name!r}: {err}") from err
    neuron = neuron.to(device=leaky.threshold.device, dtype=leaky.threshold.dtype)
    neuron.mem = leaky.mem  # the same state: training goes on where it stopped
    neuron.train(leaky.training)
    return neuron


def convert_leaky(net: nn.Module, example=None, *, where: Where = "maps",
                  **projleaky_kwargs) -> nn.Module:
    r"""Replace every :class:`snntorch.Leaky` inside ``net`` (at any depth) by a
    :class:`~snntorch_ms.ProjLeaky` with the same parameters and state; returns
    ``net``, changed in place.

    Each replacement keeps the Leaky's ``beta``, ``threshold`` and
    ``graded_spikes_factor`` values (learnable ones stay learnable), its
    surrogate, its flags (``init_hidden``, ``output``, ``inhibition``,
    ``reset_mechanism``, ``state_quant``, ``reset_delay``, ``surrogate_disable``),
    its membrane ``mem``, device, dtype and train/eval mode. Neurons that get
    windows run

    .. math::

        U_p = \beta\, \Omega(U_{p-1}, L_{p-1}) + I_p - R_{p-1} U_{\rm thr},
        \qquad p = 1..g

    over the windows of their map (see :class:`~snntorch_ms.ProjLeaky`); the
    others become ``ProjLeaky(windows=None, projection="none")``, which is
    :math:`U_t = \beta U_{t-1} + I_t - R_{t-1} U_{\rm thr}`, exactly the Leaky.

    The replaced neurons are dropped from snntorch's class-wide
    ``instances`` list. A shared Leaky (one module at several places) becomes
    one shared ProjLeaky. Forward hooks registered on a Leaky are not carried
    over. Parameters are new objects: build the optimizer after converting.

    Example::

        >>> import torch, snntorch as snn
        >>> net = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), snn.Leaky(0.9, init_hidden=True),
        ...                           torch.nn.Flatten(), torch.nn.Linear(144, 2),
        ...                           snn.Leaky(0.9, init_hidden=True))
        >>> net = convert_leaky(net, torch.rand(1, 1, 8, 8), groups=2)
        >>> net[1].windows, net[1].groups, net[4].windows, net[4].projection
        ('quad', 2, None, 'none')

    :param net: the network (changed in place)
    :type net: torch.nn.Module
    :param example: an input batch for ``net`` (a tuple for several arguments),
        needed by ``where="maps"``; the network runs once on a copy of itself
    :type example: torch.Tensor or tuple, optional
    :param where: which neurons get windows: ``"maps"`` (those whose every input
        in the example is a map at least 2x2; the default), ``"all"``, ``"none"``
        (every neuron Leaky-exact), a callable ``f(name, leaky) -> bool`` or a
        collection of qualified module names
    :type where: str, callable or collection of str, optional
    :param projleaky_kwargs: ProjLeaky's own keywords for the windowed neurons
        (``theta``, ``windows``, ``groups``, ``projection``, ``condense``,
        ``learn_theta``, ``backend``); the rest comes from each Leaky
    :return: ``net``
    :rtype: torch.nn.Module
    :raises ValueError: for an unknown ``where`` or keyword, ``where="maps"``
        without an example, module names that are not Leaky neurons, or a Leaky
        whose parameters have no meaning under windows (a 1-D vector, which
        Leaky broadcasts over the last dimension; ``inhibition``)
    """
    unknown = sorted(set(projleaky_kwargs) - set(OWN_KEYWORDS))
    if unknown:
        raise ValueError(f"unknown keyword(s) {unknown}: convert_leaky takes ProjLeaky's own "
                         f"keywords {list(OWN_KEYWORDS)}; the others come from each Leaky")
    if type(net) is Leaky:
        raise ValueError("net is itself a snntorch.Leaky, which cannot be replaced in place: "
                         "build the ProjLeaky directly, or convert a module that holds it")
    leakies = _leaky_modules(net)
    windowed = _choose(where, net, leakies, example)

    replaced: Dict[int, ProjLeaky] = {}
    for name, leaky in leakies:
        if id(leaky) not in replaced:
            replaced[id(leaky)] = _build(name, leaky, windowed[name], projleaky_kwargs)
    for parent in net.modules():
        for child_name, child in list(parent._modules.items()):
            if child is not None and id(child) in replaced and type(child) is Leaky:
                setattr(parent, child_name, replaced[id(child)])
    for _, leaky in leakies:
        forget(leaky)  # snntorch would keep the replaced neuron in its class-wide list
    return net
