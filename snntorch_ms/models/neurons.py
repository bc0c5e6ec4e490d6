"""One calling convention for the activations the models can use.

Every model of :mod:`snntorch_ms.models` takes its activation as an argument:
``"proj"`` (:class:`~snntorch_ms.ProjLeaky`), ``"leaky"`` (:class:`snntorch.Leaky`)
or ``"relu"`` (the ANN twin). :func:`make_neuron` wraps each in a
:class:`NeuronAdapter`, so that model code calls all three the same way::

    spk, mem = neuron(cur, lateral=None)

The real snntorch neuron stays a submodule (``adapter.neuron``), so
:func:`snntorch_ms.utils.reset`, :func:`snntorch_ms.utils.spiking_neurons` and
energy hooks, which look for snntorch neurons, find it.
"""

from __future__ import annotations

import inspect
from typing import Optional

import torch
import torch.nn.functional as F
from snntorch import Leaky
from torch import nn

from .._neurons import ProjLeaky
from ..functional.windows import recompose_spikes
from ..surrogate import get_surrogate

__all__ = [
    "NEURONS",
    "NEURON_DEFAULTS",
    "WINDOW_SCHEDULES",
    "NeuronAdapter",
    "make_neuron",
    "schedule_windows",
    "fits_windows",
    "MapNeurons",
    "check_neuron_kwargs",
]

#: Activations understood by :func:`make_neuron`.
NEURONS = ("proj", "leaky", "relu")

#: Default hyper-parameters of the spiking neurons (``"proj"`` and ``"leaky"``) in
#: every model. They may move after the ablation; callers override them with
#: ``neuron_kwargs`` (any keyword of :class:`~snntorch_ms.ProjLeaky` /
#: :class:`snntorch.Leaky`).
NEURON_DEFAULTS = {"beta": 0.5, "threshold": 1.0}

#: Window schedules understood by the models' ``windows`` argument.
WINDOW_SCHEDULES = ("alternate", "quad", "overlap", None)

#: Keywords a model's ``neuron_kwargs`` may set: those of
#: :class:`~snntorch_ms.ProjLeaky` (which include every keyword of
#: :class:`snntorch.Leaky`), less the ones the models set themselves.
NEURON_KEYWORDS = tuple(
    name for name in inspect.signature(ProjLeaky.__init__).parameters
    if name not in ("self", "windows", "groups", "init_hidden", "output")
)

# keywords that only ProjLeaky understands; a "leaky" neuron drops them so that
# one ``neuron_kwargs`` can drive a comparison of the two neurons
_PROJ_ONLY = ("theta", "projection", "learn_theta", "windows", "groups", "backend")


def check_neuron_kwargs(neuron_kwargs: Optional[dict]) -> dict:
    """A copy of a model's ``neuron_kwargs``, refusing the keywords the model sets
    itself (``windows``, ``groups``: use the model's own arguments;
    ``init_hidden``, ``output``: fixed by :func:`make_neuron`).

    Example::

        >>> check_neuron_kwargs({"beta": 0.9})
        {'beta': 0.9}

    :param neuron_kwargs: neuron keywords, or None (no keywords)
    :type neuron_kwargs: dict or None
    :return: a new dict of the keywords
    :rtype: dict
    :raises ValueError: if ``windows``, ``groups``, ``init_hidden`` or ``output`` is
        set, or a keyword that is not in ``NEURON_KEYWORDS``
    """
    params = dict(neuron_kwargs or {})
    for key in ("windows", "groups", "init_hidden", "output"):
        if key in params:
            raise ValueError(
                f"neuron_kwargs may not set {key!r}: the model sets it (pass windows= and "
                "groups= to the model itself)"
            )
    unknown = sorted(set(params) - set(NEURON_KEYWORDS))
    if unknown:
        raise ValueError(
            f"unknown neuron keyword{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(map(repr, unknown))}: known keywords are {', '.join(NEURON_KEYWORDS)}"
        )
    return params


def schedule_windows(windows, index: int):
    """The window scheme of the ``index``-th windowed layer under a schedule.

    ``"alternate"`` gives ``"quad"`` for even indices and ``"overlap"`` for odd
    ones (the paper alternates the two schemes from block to block); ``"quad"``,
    ``"overlap"`` and ``None`` are used as they are.

    Example::

        >>> [schedule_windows("alternate", i) for i in range(3)]
        ['quad', 'overlap', 'quad']
        >>> schedule_windows(None, 1) is None
        True

    :param windows: the schedule, one of :data:`WINDOW_SCHEDULES`
        (``"alternate"``, ``"quad"``, ``"overlap"`` or None)
    :type windows: str or None
    :param index: the index of the windowed layer, from 0
    :type index: int
    :return: ``"quad"``, ``"overlap"`` or None
    :rtype: str or None
    :raises ValueError: for an unknown schedule
    """
    if windows not in WINDOW_SCHEDULES:
        raise ValueError(
            f"unknown windows={windows!r}: expected one of {WINDOW_SCHEDULES}"
        )
    if windows == "alternate":
        return "quad" if index % 2 == 0 else "overlap"
    return windows


def fits_windows(height: int, width: int) -> bool:
    """Whether an ``height x width`` map can be cut into windows (``H, W >= 2``).

    Models fall back to ``windows=None`` wherever this is false.

    Example::

        >>> fits_windows(2, 2), fits_windows(1, 4)
        (True, False)

    :param height: map height :math:`H`
    :type height: int
    :param width: map width :math:`W`
    :type width: int
    :rtype: bool
    """
    return height >= 2 and width >= 2


class NeuronAdapter(nn.Module):
    r"""An activation with the models' calling convention ``spk, mem = f(cur, lateral)``.

    * ``kind="proj"``: ``neuron`` is a :class:`~snntorch_ms.ProjLeaky` with
      ``init_hidden=True, output=True``; ``lateral`` is passed on.
    * ``kind="leaky"``: ``neuron`` is a :class:`snntorch.Leaky` with
      ``init_hidden=True, output=True``; ``lateral`` is ignored. It runs
      elementwise on any layout (map or window stack).
    * ``kind="relu"``: no neuron; :math:`S = \max(I, 0)`, :math:`U = I`.

    .. math::

        (S, U) = \begin{cases}
        \mathrm{ProjLeaky}(I, \mathrm{lateral}) & \text{proj} \\
        \mathrm{Leaky}(I): \; U_t = \beta U_{t-1} + I_t - S_{t-1} U_{\rm thr},\;
            S_t = \Theta(U_t - U_{\rm thr}) & \text{leaky} \\
        (\max(I, 0),\; I) & \text{relu}
        \end{cases}

    ``windows`` and ``groups`` record the window geometry of the layer the
    adapter sits in: :meth:`recompose` uses them to turn a window stack back into
    a map, for every kind (only ProjLeaky's dynamics depend on them).

    Build adapters with :func:`make_neuron`.

    Example::

        >>> import torch
        >>> n = make_neuron("relu")
        >>> spk, mem = n(torch.tensor([-1.0, 2.0]))
        >>> spk, mem
        (tensor([0., 2.]), tensor([-1.,  2.]))

    :param kind: ``"proj"``, ``"leaky"`` or ``"relu"``
    :type kind: str
    :param neuron: the snntorch neuron, built with ``init_hidden=True, output=True``.
        Defaults to None (for ``"relu"``)
    :type neuron: torch.nn.Module, optional
    :param windows: window scheme of the layer (``"quad"``, ``"overlap"`` or None).
        Defaults to None
    :type windows: str or None, optional
    :param groups: number of windows of the layer (1 when ``windows`` is None).
        Defaults to 4
    :type groups: int, optional
    :param condense: how :meth:`recompose` merges spikes of overlapping windows,
        ``"or"`` or ``"mean"``. Defaults to ``"or"``
    :type condense: str, optional
    :param channels: number of channels the neuron sees (informative). Defaults to None
    :type channels: int, optional

    Inputs: cur, lateral
        - **cur** the input current, map ``[B, C, H, W]`` or window stack ``[B, g, C, h, w]``
        - **lateral** the previous layer's membrane, shape of ``cur`` (or None; ProjLeaky only)

    Outputs: spk, mem
    """

    def __init__(self, kind: str, neuron: Optional[nn.Module] = None, windows=None,
                 groups: int = 4, condense: str = "or", channels: Optional[int] = None):
        super().__init__()
        self.kind = kind
        self.neuron = neuron
        self.windows = windows
        self.groups = groups if windows is not None else 1
        self.condense = condense
        self.channels = channels

    def extra_repr(self) -> str:
        return f"kind={self.kind!r}, windows={self.windows!r}, groups={self.groups}"

    @property
    def energy_kind(self) -> str:
        """What the energy counter files this adapter under: ``"relu"`` for the ReLU
        twin (one elementwise update per element), else None (the counter finds the
        snntorch neuron inside, ``adapter.neuron``, and counts that)."""
        return "relu" if self.kind == "relu" else None

    def forward(self, cur: torch.Tensor, lateral: Optional[torch.Tensor] = None):
        if self.kind == "relu":
            return F.relu(cur), cur
        if self.kind == "leaky":
            return self.neuron(cur)
        return self.neuron(cur, lateral=lateral)

    def recompose(self, stack: torch.Tensor, size) -> torch.Tensor:
        r"""Recompose a spike stack ``[B, g, C, h, w]`` into a map ``[B, C, H, W]``.

        Uses :func:`~snntorch_ms.functional.recompose_spikes` with this layer's
        window scheme; ``"relu"`` outputs are real-valued, so they are averaged
        over overlapping windows (``condense="mean"``). Without windows the stack
        has one window and that window is the map.

        Example::

            >>> import torch
            >>> n = make_neuron("leaky", windows="quad", groups=4)
            >>> n.recompose(torch.ones(1, 4, 2, 2, 2), (4, 4)).shape
            torch.Size([1, 2, 4, 4])

        :param stack: a spike stack ``[B, g, C, h, w]``
        :type stack: torch.Tensor
        :param size: the map size ``(H, W)``
        :type size: tuple(int, int)
        :return: the spike map ``[B, C, H, W]``
        :rtype: torch.Tensor
        """
        if self.windows is None:
            return stack[:, 0]
        magnitude = None
        if self.neuron is not None:
            magnitude = self.neuron.graded_spikes_factor
            if isinstance(magnitude, torch.Tensor) and magnitude.numel() > 1:
                magnitude = magnitude.view(-1, 1, 1)
        return recompose_spikes(stack, size, self.windows, self.condense, magnitude=magnitude)


def make_neuron(kind: str, channels: Optional[int] = None, windows="quad", groups: int = 4,
                **kwargs) -> NeuronAdapter:
    r"""Build the activation ``kind`` with the models' calling convention.

    Returns a :class:`NeuronAdapter`; ``spk, mem = adapter(cur, lateral=None)``.

    * ``"proj"``: ``ProjLeaky(init_hidden=True, output=True, windows=windows,
      groups=groups, **kwargs)``, with :data:`NEURON_DEFAULTS` for keywords not
      given.
    * ``"leaky"``: ``snntorch.Leaky(init_hidden=True, output=True, **kwargs)``
      with the same defaults. ``windows`` and ``groups`` do not reach the neuron,
      and ProjLeaky-only keywords (``theta``, ``projection``, ``learn_theta``)
      are dropped, so one ``neuron_kwargs`` can drive both neurons; ``condense``
      only sets how :meth:`NeuronAdapter.recompose` merges overlapping windows.
    * ``"relu"``: :math:`S = \max(I, 0)`, :math:`U = I`; all keywords are ignored.

    The membrane update of the two spiking kinds is, with the defaults
    :math:`\beta = 0.5`, :math:`U_{\rm thr} = 1`,

    .. math::

        U_t = \beta\, U_{t-1} + I_t - S_{t-1} U_{\rm thr}, \qquad
        S_t = \Theta(U_t - U_{\rm thr})

    (ProjLeaky runs it over windows, see :class:`~snntorch_ms.ProjLeaky`).

    Example::

        >>> import torch
        >>> n = make_neuron("proj", channels=3, windows="overlap", groups=4)
        >>> spk, mem = n(torch.rand(2, 3, 8, 8))
        >>> spk.shape, type(n.neuron).__name__
        (torch.Size([2, 3, 8, 8]), 'ProjLeaky')

    :param kind: ``"proj"``, ``"leaky"`` or ``"relu"``
    :type kind: str
    :param channels: number of channels the neuron sees (recorded on the adapter).
        Defaults to None
    :type channels: int, optional
    :param windows: ``"quad"``, ``"overlap"`` or None (reach ProjLeaky only). Defaults
        to ``"quad"``
    :type windows: str or None, optional
    :param groups: number of windows in ``{1, 2, 4}`` (reach ProjLeaky only). Defaults to 4
    :type groups: int, optional
    :param kwargs: neuron keywords, overriding :data:`NEURON_DEFAULTS`; a string
        ``spike_grad`` is resolved by :func:`~snntorch_ms.surrogate.get_surrogate`
    :return: the adapter
    :rtype: NeuronAdapter
    :raises ValueError: for an unknown ``kind``
    """
    if kind not in NEURONS:
        raise ValueError(f"unknown neuron={kind!r}: expected one of {NEURONS}")
    if kind == "relu":
        return NeuronAdapter("relu", None, windows=windows, groups=groups,
                             condense="mean", channels=channels)
    params = {**NEURON_DEFAULTS, **kwargs}
    for key in ("init_hidden", "output"):
        params.pop(key, None)
    if isinstance(params.get("spike_grad"), str):
        # a surrogate by name ("atan", "rectangular:width=1"), e.g. from the command line
        params["spike_grad"] = get_surrogate(params["spike_grad"])
    if kind == "proj":
        neuron = ProjLeaky(init_hidden=True, output=True, windows=windows, groups=groups,
                           **params)
        return NeuronAdapter("proj", neuron, windows=windows, groups=groups,
                             condense=neuron.condense, channels=channels)
    condense = params.pop("condense", "or")
    for key in _PROJ_ONLY:
        params.pop(key, None)
    neuron = Leaky(init_hidden=True, output=True, **params)
    return NeuronAdapter("leaky", neuron, windows=windows, groups=groups,
                         condense=condense, channels=channels)


class MapNeurons:
    """Hands out the neurons of a backbone, one per layer, in order.

    A neuron that sees a map at least 2x2 gets the next scheme of the ``windows``
    schedule (see :func:`schedule_windows`; the count runs over these neurons
    only); a neuron on a smaller map, or on a vector (``size=None``, e.g. after
    a fully connected layer), runs without windows.

    Example::

        >>> neurons = MapNeurons("proj", windows="alternate")
        >>> [neurons(4, (8, 8)).windows, neurons(4, (4, 4)).windows,
        ...  neurons(4, (1, 1)).windows, neurons(16).windows]
        ['quad', 'overlap', None, None]

    :param kind: ``"proj"``, ``"leaky"`` or ``"relu"``
    :type kind: str
    :param windows: the schedule, one of :data:`WINDOW_SCHEDULES`. Defaults to
        ``"alternate"``
    :type windows: str or None, optional
    :param groups: number of windows in ``{1, 2, 4}``. Defaults to 4
    :type groups: int, optional
    :param neuron_kwargs: neuron keywords (see :func:`make_neuron`). Defaults to None
    :type neuron_kwargs: dict, optional
    :raises ValueError: for an unknown ``kind`` or schedule, or refused keywords
        (see :func:`check_neuron_kwargs`)

    Calling it, ``neurons(channels, size=None)``, returns the next
    :class:`NeuronAdapter`: ``channels`` (int) is the number of channels the
    neuron sees, ``size`` the map size ``(H, W)`` or None for a vector.
    """

    def __init__(self, kind: str, windows="alternate", groups: int = 4,
                 neuron_kwargs: Optional[dict] = None):
        if kind not in NEURONS:
            raise ValueError(f"unknown neuron={kind!r}: expected one of {NEURONS}")
        schedule_windows(windows, 0)  # validates the schedule
        self.kind = kind
        self.windows = windows
        self.groups = groups
        self.neuron_kwargs = check_neuron_kwargs(neuron_kwargs)
        self.index = 0

    def __call__(self, channels: int, size=None) -> NeuronAdapter:
        scheme = None
        if size is not None and fits_windows(*size):
            scheme = schedule_windows(self.windows, self.index)
            self.index += 1
        return make_neuron(self.kind, channels=channels, windows=scheme, groups=self.groups,
                           **self.neuron_kwargs)
