r"""Projection functions :math:`\Omega(a, b)`: how the membrane carried from window
``p - 1`` (``a``) is merged with the previous layer's membrane at window ``p - 1``
(``b``, the *lateral* membrane) before it starts window ``p``.

Every function takes ``b=None`` when there is no lateral membrane (window 1, or a
neuron called without ``lateral``).
"""

from __future__ import annotations

import math
from typing import Callable, Optional, Union

import torch

from . import spec

__all__ = [
    "PROJECTIONS",
    "sincos_projection",
    "nested_projection",
    "mean_projection",
    "identity_projection",
    "get_projection",
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
