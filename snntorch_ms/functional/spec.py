r"""The operator spec: every projection, reset and surrogate of ProjLeaky, defined
once with its value and its partial derivatives.

Three engines read these functions: the reference path (autograd over
:func:`~snntorch_ms.functional.window_scan`), the fused math of
:mod:`snntorch_ms.functional.fused` (run eagerly or through :func:`torch.compile`)
and the Triton kernels, which are built from the same function bodies with the
math namespace ``M`` bound to :mod:`triton.language` instead of :mod:`torch`.
So the functions below use only arithmetic, comparisons and ``M.sin``,
``M.cos``, ``M.abs``, ``M.sigmoid``, ``M.where``; options are small integers
(``PROJ``, ``RESET``, ``SURR``: constants for the kernels), each branch assigns and
one ``return`` ends the function.

One window sub-step, with :math:`A = U_{p-1}`, :math:`L = L_{p-1}`,
:math:`k = \theta\pi/2`, :math:`R = \Theta(A - \vartheta)` (detached) and
:math:`\Omega = \text{scale}\cdot c`:

.. math::

    c &= \texttt{project}(A, L, k), \qquad
    U_p = \texttt{membrane}(\beta\,\text{scale}\,c,\ I_p,\ R,\ \vartheta) \\
    S_p &= \Theta(U_p - \vartheta), \qquad
    \frac{\partial S_p}{\partial U_p} \approx \texttt{surrogate\_grad}(U_p - \vartheta)

The option names below are the only list of them in the package.
"""

from __future__ import annotations

import math
from typing import Callable, Optional, Tuple

import torch
import torch as M  # the math namespace; the Triton kernels rebind M to triton.language

__all__ = [
    "PROJECTIONS", "RESETS", "SURROGATE_KINDS", "PROJ_SCALE",
    "project", "project_partials", "membrane", "membrane_partials", "surrogate_grad",
    "projection_id", "reset_id", "surrogate_id", "recognise_surrogate",
    "surrogate_derivative", "SPEC_FUNCTIONS",
]

#: Built-in projections, in the order of their ids (``PROJ``).
PROJECTIONS = ("sincos", "nested", "mean", "none")
#: Reset mechanisms (snntorch's meaning), in the order of their ids (``RESET``).
RESETS = ("subtract", "zero", "none")
#: Surrogates the fused path knows, in the order of their ids (``SURR``).
SURROGATE_KINDS = ("atan", "fast_sigmoid", "sigmoid", "triangular",
                   "straight_through_estimator", "rectangular", "bypass")
#: The projection's constant factor, folded into beta by the engines (a power of two: exact).
PROJ_SCALE = {"sincos": 2.0, "nested": 2.0, "mean": 1.0, "none": 1.0}


def projection_id(name: str) -> int:
    r"""The id of a built-in projection (its index in :data:`PROJECTIONS`).

    .. math::

        \text{id}(\text{sincos}, \text{nested}, \text{mean}, \text{none}) = 0, 1, 2, 3

    Example::

        >>> projection_id("mean")
        2
    """
    return PROJECTIONS.index(name)


def reset_id(name: str) -> int:
    r"""The id of a reset mechanism (its index in :data:`RESETS`).

    .. math::

        \text{id}(\text{subtract}, \text{zero}, \text{none}) = 0, 1, 2

    Example::

        >>> reset_id("zero")
        1
    """
    return RESETS.index(name)


def surrogate_id(kind: str) -> int:
    r"""The id of a surrogate kind (its index in :data:`SURROGATE_KINDS`).

    .. math::

        \text{id}(\text{atan}) = 0, \ \dots, \ \text{id}(\text{bypass}) = 6

    Example::

        >>> surrogate_id("atan")
        0
    """
    return SURROGATE_KINDS.index(kind)


# --------------------------------------------------------------------------- #
# the spec (portable: torch or triton.language as M)
# --------------------------------------------------------------------------- #


def project(a, b, k, PROJ, HAS_B):
    r"""The projection without its constant factor, :math:`c = \Omega(a, b) /
    \text{scale}` (scale in :data:`PROJ_SCALE`); ``b`` is ignored unless ``HAS_B``.

    .. math::

        \text{sincos: } \sin(ka)\cos(kb), \quad
        \text{nested: } \sin\!\big(kb\cos(ka)\big), \quad
        \text{mean: } \tfrac{a + b}{2}, \quad \text{none: } a

    and without ``b``: :math:`\sin(ka)` (sincos, nested), :math:`a` (mean, none).

    Example::

        >>> project(torch.tensor(1.0), None, math.pi / 2, projection_id("sincos"), False)
        tensor(1.)
    """
    if PROJ == 0:
        c = M.sin(k * a)
        if HAS_B:
            c = c * M.cos(k * b)
    elif PROJ == 1:
        if HAS_B:
            c = M.sin(k * b * M.cos(k * a))
        else:
            c = M.sin(k * a)
    elif PROJ == 2:
        if HAS_B:
            c = (a + b) * 0.5
        else:
            c = a
    else:
        c = a
    return c


def project_partials(a, b, k, PROJ, HAS_B):
    r"""``(c, dc/da, dc/db, dc/dk)`` of :func:`project` (``dc/db`` is 0 without ``b``).

    .. math::

        \text{sincos: } \frac{\partial c}{\partial a} = k\cos(ka)\cos(kb), \
        \frac{\partial c}{\partial b} = -k\sin(ka)\sin(kb), \
        \frac{\partial c}{\partial k} = a\cos(ka)\cos(kb) - b\sin(ka)\sin(kb) \\
        \text{nested } (z = kb\cos(ka)): \ \frac{\partial c}{\partial a} = -\cos z\, k^2 b \sin(ka), \
        \frac{\partial c}{\partial b} = \cos z\, k\cos(ka), \
        \frac{\partial c}{\partial k} = \cos z\,\big(b\cos(ka) - k b a\sin(ka)\big)

    Example::

        >>> c, da, db, dk = project_partials(torch.tensor(0.0), None, 0.5, 0, False)
        >>> float(c), float(da), float(db), float(dk)
        (0.0, 0.5, 0.0, 0.0)
    """
    if PROJ == 0 or (PROJ == 1 and not HAS_B):
        ka = k * a
        sa = M.sin(ka)
        ca = M.cos(ka)
        if HAS_B and PROJ == 0:
            kb = k * b
            sb = M.sin(kb)
            cb = M.cos(kb)
            c = sa * cb
            da = k * ca * cb
            db = -(k * sa * sb)
            dk = a * ca * cb - b * sa * sb
        else:
            c = sa
            da = k * ca
            db = 0.0 * a
            dk = a * ca
    elif PROJ == 1:
        ka = k * a
        sa = M.sin(ka)
        ca = M.cos(ka)
        z = k * b * ca
        cz = M.cos(z)
        c = M.sin(z)
        da = -(cz * k * k * b * sa)
        db = cz * k * ca
        dk = cz * (b * ca - k * b * a * sa)
    elif PROJ == 2 and HAS_B:
        c = (a + b) * 0.5
        da = 0.5 + 0.0 * a
        db = 0.5 + 0.0 * a
        dk = 0.0 * a
    else:
        c = a
        da = 1.0 + 0.0 * a
        db = 0.0 * a
        dk = 0.0 * a
    return c, da, db, dk


def membrane(bc, cur, r, thr, RESET):
    r"""The membrane after one sub-step from :math:`\beta C` (``bc``), the input
    current, the reset signal :math:`R \in \{0, 1\}` and the threshold, in
    snntorch.Leaky's order of operations (so the Leaky twin is bit-identical):

    .. math::

        U = \begin{cases} \beta C + I - R\vartheta & \text{subtract} \\
        \beta C (1 - R) + I & \text{zero} \\ \beta C + I & \text{none} \end{cases}

    Example::

        >>> one = torch.tensor(1.0)
        >>> membrane(one, one * 0.5, one, one, reset_id("subtract"))
        tensor(0.5000)
    """
    if RESET == 0:
        u = bc + cur - r * thr
    elif RESET == 1:
        u = bc * (1.0 - r) + cur
    else:
        u = bc + cur
    return u


def membrane_partials(r, RESET):
    r"""``(dU/d(beta C), dU/dthreshold)`` of :func:`membrane` (:math:`\partial U /
    \partial I = 1` always; :math:`R` is detached).

    .. math::

        \text{subtract: } (1, -R), \quad \text{zero: } (1 - R, 0), \quad
        \text{none: } (1, 0)

    Example::

        >>> membrane_partials(torch.tensor(1.0), reset_id("subtract"))
        (tensor(1.), tensor(-1.))
    """
    if RESET == 0:
        dbc = 1.0 + 0.0 * r
        dthr = -r
    elif RESET == 1:
        dbc = 1.0 - r
        dthr = 0.0 * r
    else:
        dbc = 1.0 + 0.0 * r
        dthr = 0.0 * r
    return dbc, dthr


def surrogate_grad(x, p, SURR):
    r"""The surrogate derivative :math:`\sigma'(x)` at :math:`x = U - \vartheta`,
    the same formulas as the surrogates' own backward (parameter ``p``: atan's
    :math:`\alpha`, the sigmoids' slope :math:`k`, triangular's threshold, the
    rectangular width :math:`a`):

    .. math::

        \text{atan: } \frac{\alpha/2}{1 + (\pi\alpha x/2)^2}, \quad
        \text{fast\_sigmoid: } \frac{1}{(k|x| + 1)^2}, \quad
        \text{sigmoid: } k\,\varsigma(kx)(1 - \varsigma(kx)), \\
        \text{triangular: } p\,(1 - 2\,\mathbb 1[x \ge 0]), \quad
        \text{STE: } 1, \quad
        \text{rectangular: } \tfrac{1}{a}\mathbb 1[|x| < a/2], \quad
        \text{bypass: } 0

    The sigmoid is evaluated in a stable form: where snntorch's own formula
    overflows to ``nan`` (:math:`kx \lesssim -88` in float32), this gives 0.

    Example::

        >>> surrogate_grad(torch.tensor([0.0, 1.0]), 2.0, surrogate_id("atan"))
        tensor([1.0000, 0.0920])
    """
    if SURR == 0:
        t = x * (1.5707963267948966 * p)
        d = (p / 2) / (1 + t * t)
    elif SURR == 1:
        e = M.abs(x) * p + 1.0
        d = 1.0 / (e * e)
    elif SURR == 2:
        s = M.sigmoid(x * p)
        d = p * s * (1 - s)
    elif SURR == 3:
        d = M.where(x >= 0, -p + 0.0 * x, p + 0.0 * x)
    elif SURR == 4:
        d = 1.0 + 0.0 * x
    elif SURR == 5:
        ax = M.abs(x)
        d = M.where(ax < p / 2, 1.0 / p + 0.0 * ax, 0.0 * ax)
    else:
        d = 0.0 * M.abs(x)
    return d


#: The spec functions the Triton kernels rebuild over :mod:`triton.language`.
SPEC_FUNCTIONS = (project, project_partials, membrane, membrane_partials, surrogate_grad)


# --------------------------------------------------------------------------- #
# reading a surrogate closure (the one place that inspects snntorch's closures)
# --------------------------------------------------------------------------- #

#: The keyword each known surrogate factory encloses its parameter under.
_PARAM_NAME = {
    "atan": "alpha",
    "fast_sigmoid": "slope",
    "sigmoid": "slope",
    "triangular": "threshold",
    "rectangular": "width",
}

_CODES: dict = {}


def _surrogate_codes() -> dict:
    """The code objects of the closures that the known surrogate factories return."""
    if not _CODES:
        from snntorch import surrogate as sg

        _CODES.update({
            sg.atan().__code__: "atan",
            sg.fast_sigmoid().__code__: "fast_sigmoid",
            sg.sigmoid().__code__: "sigmoid",
            sg.triangular().__code__: "triangular",
            sg.straight_through_estimator().__code__: "straight_through_estimator",
        })
    return _CODES


# traced by torch.compile as a constant: the closure inspection stays out of the graph
@torch.compiler.assume_constant_result
def recognise_surrogate(spike_grad: Callable) -> Optional[Tuple[str, float]]:
    r"""Recognise a surrogate built by a known factory and read its parameter.

    snntorch's surrogates keep their parameter only inside the closure the factory
    returns, so this is the one place that reads closures: the closure is
    recognised by its code object and the parameter read from its cell (a
    surrogate built with another parameter value is recognised too); this
    package's own surrogates carry a ``surrogate_spec`` attribute instead. Known:
    :func:`snntorch.surrogate.atan` (``alpha``),
    :func:`~snntorch.surrogate.fast_sigmoid` and :func:`~snntorch.surrogate.sigmoid`
    (``slope``), :func:`~snntorch.surrogate.triangular` (``threshold``),
    :func:`~snntorch.surrogate.straight_through_estimator`,
    :func:`snntorch_ms.surrogate.rectangular` (``width``) and snntorch's
    ``surrogate_disable=True`` bypass (no gradient). Returns ``(kind, param)``, or
    ``None`` for anything else; :func:`surrogate_grad` has the derivatives, e.g.

    .. math::

        \sigma'_{\rm atan}(x) = \frac{\alpha / 2}{1 + (\pi \alpha x / 2)^2}

    Example::

        >>> from snntorch import surrogate
        >>> recognise_surrogate(surrogate.atan(alpha=3.0))
        ('atan', 3.0)
        >>> recognise_surrogate(lambda x: (x > 0).float()) is None
        True
    """
    from snntorch._neurons.neurons import SpikingNeuron

    if spike_grad is SpikingNeuron._surrogate_bypass:
        return ("bypass", 0.0)
    # this package's surrogates say what they are (snntorch_ms.surrogate.rectangular)
    declared = getattr(spike_grad, "surrogate_spec", None)
    if declared is not None:
        return declared
    code = getattr(spike_grad, "__code__", None)
    if code is None:
        return None
    kind = _surrogate_codes().get(code)
    if kind is None:
        return None
    if kind == "straight_through_estimator":
        return (kind, 0.0)
    cells = dict(zip(code.co_freevars, spike_grad.__closure__ or ()))
    try:
        value = cells[_PARAM_NAME[kind]].cell_contents
    except (KeyError, ValueError):
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return (kind, float(value))


def surrogate_derivative(x: torch.Tensor, spec: Tuple[str, float]) -> torch.Tensor:
    r""":func:`surrogate_grad` for a :func:`recognise_surrogate` pair
    ``(kind, param)``, in the dtype of ``x``.

    .. math::

        \sigma'(x) = \texttt{surrogate\_grad}(x, p, \text{id(kind)})

    Example::

        >>> surrogate_derivative(torch.tensor([0.0, 1.0]), ("atan", 2.0))
        tensor([1.0000, 0.0920])
    """
    kind, param = spec
    if kind not in SURROGATE_KINDS:
        raise ValueError(f"unknown surrogate kind {kind!r}: expected one of {SURROGATE_KINDS}")
    return surrogate_grad(x, param, surrogate_id(kind)).to(x.dtype)


HALF_PI = math.pi / 2
