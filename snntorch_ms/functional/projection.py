r"""Projection functions :math:`\Omega(a, b)`: how the membrane carried from window
``p - 1`` (``a``) is merged with the previous layer's membrane at window ``p - 1``
(``b``, the *lateral* membrane) before it starts window ``p``.

Every function takes ``b=None`` when there is no lateral membrane (window 1, or a
neuron called without ``lateral``).
"""

from __future__ import annotations

import math
from typing import Callable, Dict, Optional, Tuple, Union

import torch

from . import spec

__all__ = [
    "PROJECTIONS",
    "sincos_projection",
    "nested_projection",
    "mean_projection",
    "identity_projection",
    "get_projection",
    "projection_ops",
    "projection_work",
]


def sincos_projection(a: torch.Tensor, b: Optional[torch.Tensor], theta) -> torch.Tensor:
    r"""The paper's projection (its Eq. 5), the default.

    .. math::

        \Omega(a, b) = 2 \sin\!\left(\tfrac{\theta\pi}{2} a\right)
                         \cos\!\left(\tfrac{\theta\pi}{2} b\right),
        \qquad \Omega(a) = 2 \sin\!\left(\tfrac{\theta\pi}{2} a\right)

    It bounds the carried membrane to :math:`[-2, 2]` and has a smooth gradient.

    Example::

        >>> sincos_projection(torch.tensor(1.0), None, 1.0)
        tensor(2.)
        >>> sincos_projection(torch.tensor(1.0), torch.tensor(0.0), 1.0)
        tensor(2.)

    :param a: the membrane carried from window :math:`p - 1`, :math:`U_{p-1}`
    :type a: torch.Tensor
    :param b: the lateral membrane :math:`L_{p-1}` (shape of ``a``), or None
    :type b: torch.Tensor or None
    :param theta: projection scale :math:`\theta`, scalar or broadcastable to ``a``
    :type theta: float or torch.Tensor
    :return: the projected membrane :math:`C_p`, shape of ``a``
    :rtype: torch.Tensor
    """
    k = theta * (math.pi / 2)
    return 2 * spec.project(a, b, k, spec.projection_id("sincos"), b is not None)


def nested_projection(a: torch.Tensor, b: Optional[torch.Tensor], theta) -> torch.Tensor:
    r"""The nested form of the paper's released code.

    .. math::

        \Omega(a, b) = 2 \sin\!\left(\tfrac{\theta\pi}{2}\, b
                         \cos\!\left(\tfrac{\theta\pi}{2} a\right)\right),
        \qquad \Omega(a) = 2 \sin\!\left(\tfrac{\theta\pi}{2} a\right)

    Note that with a lateral membrane the carried membrane only enters through
    the cosine.

    Example::

        >>> nested_projection(torch.tensor(0.0), torch.tensor(1.0), 1.0)
        tensor(2.)

    :param a: the membrane carried from window :math:`p - 1`, :math:`U_{p-1}`
    :type a: torch.Tensor
    :param b: the lateral membrane :math:`L_{p-1}` (shape of ``a``), or None
    :type b: torch.Tensor or None
    :param theta: projection scale :math:`\theta`, scalar or broadcastable to ``a``
    :type theta: float or torch.Tensor
    :return: the projected membrane :math:`C_p`, shape of ``a``
    :rtype: torch.Tensor
    """
    k = theta * (math.pi / 2)
    return 2 * spec.project(a, b, k, spec.projection_id("nested"), b is not None)


def mean_projection(a: torch.Tensor, b: Optional[torch.Tensor], theta=None) -> torch.Tensor:
    r"""The average of the paper's CIFAR-100 code.

    .. math::

        \Omega(a, b) = \frac{a + b}{2}, \qquad \Omega(a) = a

    Example::

        >>> mean_projection(torch.tensor(1.0), torch.tensor(3.0))
        tensor(2.)

    :param a: the membrane carried from window :math:`p - 1`, :math:`U_{p-1}`
    :type a: torch.Tensor
    :param b: the lateral membrane :math:`L_{p-1}` (shape of ``a``), or None
    :type b: torch.Tensor or None
    :param theta: ignored (kept for the common signature). Defaults to None
    :type theta: float or torch.Tensor, optional
    :return: the projected membrane :math:`C_p`, shape of ``a``
    :rtype: torch.Tensor
    """
    return spec.project(a, b, None, spec.projection_id("mean"), b is not None)


def identity_projection(a: torch.Tensor, b: Optional[torch.Tensor], theta=None) -> torch.Tensor:
    r"""No projection: the carried membrane as it is.

    .. math::

        \Omega(a, b) = a

    With ``windows=None`` this makes :class:`~snntorch_ms.ProjLeaky` exactly
    :class:`snntorch.Leaky`.

    Example::

        >>> identity_projection(torch.tensor(1.5), torch.tensor(3.0))
        tensor(1.5000)

    :param a: the membrane carried from window :math:`p - 1`, :math:`U_{p-1}`
    :type a: torch.Tensor
    :param b: the lateral membrane :math:`L_{p-1}` (shape of ``a``), or None (ignored)
    :type b: torch.Tensor or None (ignored)
    :param theta: ignored (kept for the common signature). Defaults to None
    :type theta: float or torch.Tensor, optional
    :return: ``a`` itself
    :rtype: torch.Tensor
    """
    return a


#: Built-in projections by name (``projection=`` of :class:`~snntorch_ms.ProjLeaky`),
#: in the order of :data:`snntorch_ms.functional.spec.PROJECTIONS`.
PROJECTIONS = dict(zip(spec.PROJECTIONS, (sincos_projection, nested_projection,
                                          mean_projection, identity_projection)))

ProjectionFn = Callable[[torch.Tensor, Optional[torch.Tensor], torch.Tensor], torch.Tensor]


def get_projection(projection: Union[str, Callable]) -> ProjectionFn:
    r"""Resolve ``projection`` to a function ``f(a, b, theta)``.

    A name from :data:`PROJECTIONS`, or a user callable ``f(a, b)`` (``b`` is
    ``None`` when there is no lateral membrane), which is wrapped to ignore
    ``theta``.

    .. math::

        C_p = \Omega(U_{p-1}, L_{p-1})

    Example::

        >>> f = get_projection(lambda a, b: a if b is None else a - b)
        >>> f(torch.tensor(3.0), torch.tensor(1.0), 0.5)
        tensor(2.)

    :param projection: ``"sincos"``, ``"nested"``, ``"mean"``, ``"none"``, or a
        callable ``f(a, b)``
    :type projection: str or callable
    :return: a function ``f(a, b, theta)``
    :rtype: callable
    :raises ValueError: for an unknown name
    """
    if callable(projection):
        user_fn = projection

        def wrapped(a, b, theta):
            return user_fn(a, b)

        wrapped.__name__ = getattr(user_fn, "__name__", "projection")
        return wrapped
    if projection not in PROJECTIONS:
        raise ValueError(
            f"unknown projection={projection!r}: expected one of "
            f"{tuple(PROJECTIONS)} or a callable f(a, b)"
        )
    return PROJECTIONS[projection]


# -- the work of one evaluation, for the energy counter -----------------------------


def projection_ops(projection, lateral: bool) -> Tuple[int, int, int, int]:
    r"""Work of one evaluation of ProjLeaky's projection :math:`\Omega(a, b)`, as
    written above: ``(sines, cosines, multiplications, additions)``.

    .. math::

        \text{sincos: } 2 \sin(k a) \cos(k b), \qquad
        \text{nested: } 2 \sin(k\, b \cos(k a)), \qquad
        \text{mean: } (a + b) / 2, \qquad k = \theta\pi/2

    Without a lateral membrane ``"sincos"`` and ``"nested"`` are :math:`2\sin(ka)`:
    one sine, two multiplications (:math:`k a` and the factor 2); with it they add
    a cosine and two multiplications. ``"mean"`` is one addition and one
    multiplication with a lateral membrane, nothing without; ``"none"`` is nothing.
    A user callable is not known: counted as nothing.

    Example::

        >>> projection_ops("sincos", lateral=False), projection_ops("sincos", lateral=True)
        ((1, 0, 2, 0), (1, 1, 4, 0))
        >>> projection_ops("mean", lateral=True), projection_ops("none", lateral=True)
        ((0, 0, 1, 1), (0, 0, 0, 0))

    :param projection: the neuron's ``projection`` (a name, or a callable)
    :type projection: str or callable
    :param lateral: whether this evaluation has a lateral membrane :math:`b`
    :type lateral: bool
    :return: ``(sines, cosines, multiplications, additions)``
    :rtype: tuple(int, int, int, int)
    """
    if projection in ("sincos", "nested"):
        return (1, 1, 4, 0) if lateral else (1, 0, 2, 0)
    if projection == "mean":
        return (0, 0, 1, 1) if lateral else (0, 0, 0, 0)
    return (0, 0, 0, 0)


def projection_work(projection, evaluations: int, with_lateral: int = 0) -> Dict[str, int]:
    r"""The work of ``evaluations`` evaluations of the projection, ``with_lateral`` of
    them with a lateral membrane (:func:`projection_ops` of each, summed):

    .. math::

        N_{\rm op} = (n - n_L)\, N_{\rm op}(\Omega(a)) + n_L\, N_{\rm op}(\Omega(a, b))

    Example::

        >>> projection_work("sincos", 10, with_lateral=4)
        {'sines': 10, 'cosines': 4, 'proj_mults': 28, 'proj_adds': 0}

    :param projection: the neuron's ``projection`` (a name, or a callable)
    :type projection: str or callable
    :param evaluations: evaluations in all, :math:`n`
    :type evaluations: int
    :param with_lateral: those with a lateral membrane, :math:`n_L`. Defaults to 0
    :type with_lateral: int, optional
    :return: ``sines``, ``cosines``, ``proj_mults`` and ``proj_adds``
    :rtype: dict
    """
    without = evaluations - with_lateral
    alone = projection_ops(projection, lateral=False)
    paired = projection_ops(projection, lateral=True)
    keys = ("sines", "cosines", "proj_mults", "proj_adds")
    return {key: a * without + b * with_lateral for key, a, b in zip(keys, alone, paired)}
