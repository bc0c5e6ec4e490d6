r"""The fused window scan: the whole time step of a :class:`~snntorch_ms.ProjLeaky`
(cut, projection, update, reset, surrogate, recomposition) as one forward and one
hand-written backward.

The reference path (:func:`~snntorch_ms.functional.window_scan` between
:func:`~snntorch_ms.functional.cut_windows` and the two ``recompose_*``
functions) records every sub-step on the autograd tape. Here
:class:`FusedWindowScan` keeps one map-sized tensor besides the carried membrane,
the lateral membrane and the parameters: when the windows are disjoint (a stack,
or ``"quad"`` windows on an even-sized map) its own membrane output, which holds
every window membrane :math:`U_p`; otherwise the input current, from which
backward recomputes the :math:`U_p`. Backward then runs the gradient of the
recursion backwards through the windows.
Window :math:`p` (:math:`A = U_{p-1}`, :math:`L = L_{p-1}`,
:math:`k = \theta\pi/2`, :math:`R = \Theta(A - \vartheta)` detached):

.. math::

    C_p &= \Omega(A, L), \qquad
    U_p = \beta\, z_p C_p + I_p - \vartheta R\, [\text{subtract}], \qquad
    z_p = 1 - R\, [\text{zero}] \text{ else } 1 \\
    S_p &= \Theta(U_p - \vartheta)\, s

and, with :math:`\bar X = \partial\mathcal L / \partial X` and :math:`\sigma'` the
surrogate derivative, from the last window to the first:

.. math::

    \bar U_p &= \bar M_p + s\,\sigma'(U_p - \vartheta)\,\bar S_p
        + \beta z_{p+1}\,\frac{\partial\Omega}{\partial a}(U_p, L_p)\,\bar U_{p+1} \\
    \bar I_p &= \bar U_p, \qquad
    \bar L_{p-1} = \beta z_p \frac{\partial\Omega}{\partial b}(U_{p-1}, L_{p-1})\,\bar U_p \\
    \bar\beta &= \mathbb 1[0 \le \beta \le 1] \sum_p \bar U_p z_p C_p, \qquad
    \bar\vartheta = -\sum_p \big(s\,\sigma'(U_p - \vartheta)\bar S_p
        + R_{p-1}\bar U_p [\text{subtract}]\big) \\
    \bar\theta &= \frac{\pi}{2}\sum_p \beta z_p\,
        \frac{\partial\Omega}{\partial k}(U_{p-1}, L_{p-1})\,\bar U_p

where :math:`\bar M_p` is the output membrane's gradient at the positions where
window :math:`p` is the last to cover (map) or ``mem[:, p]`` (stack), and
:math:`\bar S_p` is the output spikes' gradient divided by the coverage
(the straight-through gradient of the recomposition).

Every option-specific formula (projection, reset, surrogate, with their
partial derivatives) is defined once, in :mod:`snntorch_ms.functional.spec`,
which the reference path reads too. Three engines run the recursion:

* :mod:`~snntorch_ms.functional.fused.eager`: tensor code writing into
  preallocated window buffers, the CPU engine;
* :mod:`~snntorch_ms.functional.fused.pure`: the same recursion as pure
  operations, compiled with :func:`torch.compile` on CUDA (one graph per
  configuration and shape, built on first use; nothing compiles at import) and
  traced by a ``torch.compile``'d model;
* :mod:`~snntorch_ms.functional.fused.triton`: hand-written Triton kernels, opt-in.

A neuron's ``backend`` (``"eager"``, ``"compiled"``, ``"triton"``, or
``"auto"``, which follows :func:`configure`) picks one of them (see
:mod:`~snntorch_ms.functional.fused.backend`).

Output dtypes are those of the reference path (snntorch.Leaky's rule): spikes
and membrane in the dtype the arithmetic promotes to (a float32 ``beta`` of 0
dimensions does not promote a bf16 input; snntorch's surrogates return float32
spikes, so on the reference path the membrane of a bf16 neuron becomes float32
from its second sub-step on, and the fused path returns the same dtypes).

Supported: projections ``"sincos"``, ``"nested"``, ``"mean"``, ``"none"``;
resets ``"subtract"``, ``"zero"``, ``"none"``; condense ``"or"``, ``"mean"``;
map and stack layouts (and no windows); with or without ``lateral``; scalar or
per-channel ``beta``, ``threshold``, ``theta``, learnable or not; a constant
``graded_spikes_factor``; the surrogates listed in
:func:`~snntorch_ms.functional.spec.recognise_surrogate`.
Anything else (a callable projection, another surrogate, ``state_quant``,
``inhibition``, ``reset_delay=False``, a learnable ``graded_spikes_factor``)
runs the reference path (``backend="auto"``; an explicit fused engine is an
error there, see :class:`~snntorch_ms.ProjLeaky`'s ``backend=``).
"""

from __future__ import annotations

import torch  # noqa: F401  (the doctests use it)

from ..spec import recognise_surrogate, surrogate_derivative
from .autograd import FusedWindowScan, fused_window_scan
from .backend import BACKENDS, backend_problem, configure, resolve, settings, triton_available
from .config import FusedConfig, fused_unsupported

__all__ = [
    "FusedConfig", "FusedWindowScan", "fused_window_scan", "fused_unsupported",
    "recognise_surrogate", "surrogate_derivative", "BACKENDS", "configure", "settings",
    "resolve", "backend_problem", "triton_available",
]
