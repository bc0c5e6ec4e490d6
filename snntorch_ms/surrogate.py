"""Surrogate gradients added by snntorch-ms, in :mod:`snntorch.surrogate`'s style.

Every surrogate of :mod:`snntorch.surrogate` works as ``spike_grad`` too;
:func:`get_surrogate` builds any of them from a name, so that command lines and
configuration files can choose one.
"""

from __future__ import annotations

from snntorch import surrogate as _snn_surrogate

from .functional.surrogate import Rectangular, rectangular

__all__ = ["Rectangular", "rectangular", "get_surrogate", "SURROGATES"]

#: Names understood by :func:`get_surrogate` (snntorch's surrogates and ours).
SURROGATES = (
    "atan", "fast_sigmoid", "sigmoid", "triangular", "straight_through_estimator",
    "spike_rate_escape", "heaviside", "SFS", "SSO", "rectangular",
)


def get_surrogate(spec: str):
    r"""Build a surrogate gradient from a name with optional arguments:
    ``"atan"``, ``"atan:alpha=3"``, ``"rectangular:width=0.5"``,
    ``"fast_sigmoid:slope=10"``.

    The returned closure is what ``spike_grad=`` takes; for example the
    rectangular surrogate has

    .. math::

        \frac{\partial S}{\partial U} = \frac{1}{a}\,
        \mathbb{1}\!\left[|U - U_{\rm thr}| < \tfrac{a}{2}\right].

    Example::

        >>> import torch
        >>> f = get_surrogate("rectangular:width=1.0")
        >>> f(torch.tensor([0.2, -0.3])).tolist()
        [1.0, 0.0]
        >>> get_surrogate("tanh")
        Traceback (most recent call last):
        ...
        ValueError: unknown surrogate 'tanh': expected one of ('atan', 'fast_sigmoid', 'sigmoid', 'triangular', 'straight_through_estimator', 'spike_rate_escape', 'heaviside', 'SFS', 'SSO', 'rectangular')

    :param spec: ``"NAME"`` or ``"NAME:KEY=VALUE,KEY=VALUE"``, with ``NAME`` one of
        :data:`SURROGATES` and the keywords of that surrogate's factory (values
        are read as floats)
    :type spec: str
    :return: the surrogate's closure, for ``spike_grad=``
    :rtype: callable
    :raises ValueError: for an unknown name, an argument that is not
        ``KEY=VALUE``, or arguments the surrogate does not take
    """
    name, _, arg_text = spec.partition(":")
    name = name.strip()
    if name not in SURROGATES:
        raise ValueError(f"unknown surrogate {name!r}: expected one of {SURROGATES}")
    kwargs = {}
    for item in filter(None, (a.strip() for a in arg_text.split(","))):
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"surrogate argument {item!r} must be KEY=VALUE")
        kwargs[key.strip()] = float(value)
    factory = rectangular if name == "rectangular" else getattr(_snn_surrogate, name)
    try:
        return factory(**kwargs)
    except TypeError as err:
        raise ValueError(f"bad arguments for surrogate {name!r}: {err}") from None
