r"""The one place that decides which engine runs a :class:`~snntorch_ms.ProjLeaky`
time step: the neuron's ``backend`` names it, :func:`configure` sets the
process-wide default that ``backend="auto"`` follows, and :func:`resolve` turns
the two into the engine for a device.

Engines (:data:`BACKENDS`, besides ``"auto"``):

* ``"reference"``: autograd over the pure functions of :mod:`snntorch_ms.functional`;
* ``"eager"``: the fused autograd function on eager tensor code
  (:mod:`~snntorch_ms.functional.fused.eager`);
* ``"compiled"``: the fused autograd function on its pure math compiled with
  :func:`torch.compile` (:mod:`~snntorch_ms.functional.fused.pure`);
* ``"triton"``: the fused autograd function on hand-written Triton kernels
  (:mod:`~snntorch_ms.functional.fused.triton`).

``SNNTORCH_MS_BACKEND`` (read once, here, when the package is imported) gives
the initial process-wide default; :func:`configure` changes it.
"""

from __future__ import annotations

import functools
import os
import types
import warnings
from typing import Optional

import torch

from . import eager, pure

__all__ = ["BACKENDS", "configure", "settings", "check_backend", "backend_problem",
           "resolve", "triton_available"]

#: The values of ProjLeaky's ``backend`` (and of :func:`configure`'s).
BACKENDS = ("auto", "reference", "eager", "compiled", "triton")

#: The environment variable that gives the process-wide default backend.
ENV = "SNNTORCH_MS_BACKEND"

_UNSET = object()
_COMPILED: dict = {}
_COMPILE_FAILED: set = set()


def _check_name(backend, where: str) -> None:
    if backend not in BACKENDS:
        hint = (" (since 0.4.0 the fused path of backend='fused' or fused=True is 'auto', "
                "or an engine named outright: 'eager', 'compiled', 'triton')"
                if backend == "fused" else "")
        raise ValueError(f"unknown {where}={backend!r}: expected one of {BACKENDS}{hint}")


@functools.lru_cache(maxsize=None)
def triton_available() -> bool:
    r"""Whether :mod:`triton` imports (looked up once per process).

    .. math::

        \text{available} = [\texttt{import triton}\ \text{succeeds}]

    Example::

        >>> isinstance(triton_available(), bool)
        True
    """
    try:
        import triton  # noqa: F401
    except Exception:
        return False
    return True


def _check_library(backend, where: str) -> None:
    if backend == "triton" and not triton_available():
        raise ImportError(f"{where}='triton' needs the package triton, which does not import "
                          "here (CUDA builds of PyTorch bring it; pip install triton); use "
                          "'auto', 'eager' or 'compiled'")


def check_backend(backend, where: str = "backend") -> None:
    r"""Check a backend's name, and for ``"triton"`` that triton imports: raises
    :class:`ValueError` for an unknown name and :class:`ImportError` for a
    missing library, naming why; returns None otherwise.

    .. math::

        b \in \{\text{auto}, \text{reference}, \text{eager}, \text{compiled},
        \text{triton}\}

    Example::

        >>> check_backend("eager") is None
        True
        >>> try:
        ...     check_backend("fused")
        ... except ValueError as err:
        ...     print(str(err)[:33])
        unknown backend='fused': expected

    :param backend: the name to check
    :type backend: str
    :param where: what to call it in the message. Defaults to ``"backend"``
    :type where: str, optional
    """
    _check_name(backend, where)
    _check_library(backend, where)


def _initial_settings() -> dict:
    # the one place where the environment is read
    value = os.environ.get(ENV, "auto").strip() or "auto"
    check_backend(value, ENV)
    return {"backend": value, "compile_backend": "inductor", "version": 0}


_SETTINGS = _initial_settings()


def configure(*, backend=_UNSET, compile_backend=_UNSET) -> dict:
    r"""Set the process-wide defaults of the engines; returns the settings as
    they were before (pass them back to restore).

    * ``backend``: the engine that every neuron built with ``backend="auto"``
      runs, where its options and device allow it (otherwise the rule of
      ``"auto"``). ``"auto"`` (the default, or ``SNNTORCH_MS_BACKEND``) is the
      rule itself: ``"eager"`` on the CPU, ``"compiled"`` on CUDA, the
      reference path for the exact-Leaky twin and for options the fused
      engines do not cover. Checked here: an unknown name raises
      :class:`ValueError`, ``"triton"`` without triton :class:`ImportError`.
    * ``compile_backend``: the :func:`torch.compile` backend of the
      ``"compiled"`` engine. Defaults to ``"inductor"``.

    Arguments left out keep their value; neurons on ``"auto"`` resolve again at
    their next call. Every engine computes the same time step

    .. math::

        (S, U) = \mathrm{recompose}\big(\mathrm{scan}_{p=1..g}(I_p, U_{p-1}, L_{p-1})\big)

    Example::

        >>> old = configure(backend="eager")
        >>> settings()["backend"]
        'eager'
        >>> _ = configure(**old)
    """
    old = {k: v for k, v in _SETTINGS.items() if k != "version"}
    if backend is not _UNSET:
        check_backend(backend)
        _SETTINGS["backend"] = backend
    if compile_backend is not _UNSET:
        _SETTINGS["compile_backend"] = compile_backend
    _SETTINGS["version"] += 1
    return old


def settings() -> dict:
    r"""The current settings of :func:`configure`: ``backend``,
    ``compile_backend``, and ``version`` (counts the calls of :func:`configure`;
    a neuron's resolved engine is keyed by it).

    .. math::

        \{\text{backend}, \text{compile\_backend}, \text{version}\}

    Example::

        >>> sorted(settings())
        ['backend', 'compile_backend', 'version']
    """
    return dict(_SETTINGS)


def backend_problem(backend: str, unsupported: Optional[str], windowed: bool) -> Optional[str]:
    r"""Why a neuron with these options cannot run ``backend``: None when it can.

    ``unsupported`` is what :func:`~snntorch_ms.functional.fused.fused_unsupported`
    says of the neuron's options (None: the fused engines cover them);
    ``windowed`` whether it has windows (the Triton kernels take maps and window
    stacks, not one window of any shape). The names are checked too.

    .. math::

        \text{usable}(b) \iff b = \text{reference} \vee
        (\text{covered} \wedge (b \ne \text{triton} \vee \text{windows}))

    Example::

        >>> backend_problem("eager", None, windowed=True) is None
        True
        >>> backend_problem("compiled", "state_quant", windowed=True)
        'the fused engines do not cover state_quant'
    """
    _check_name(backend, "backend")
    if backend in ("auto", "reference"):
        return None
    if unsupported is not None:
        return f"the fused engines do not cover {unsupported}"
    if backend == "triton" and not windowed:
        return ("the Triton kernels take a map or a window stack: a neuron without "
                "windows (windows=None or groups=1) runs 'eager' or 'compiled'")
    return None


def _device_problem(backend: str, device_type: str) -> Optional[str]:
    if backend == "triton" and device_type != "cuda" \
            and os.environ.get("TRITON_INTERPRET", "0") != "1":
        return (f"the Triton kernels run on CUDA tensors (or on any device under "
                f"TRITON_INTERPRET=1), and this input is on {device_type!r}")
    return None


def resolve(backend: str, device_type: str, unsupported: Optional[str], windowed: bool,
            twin: bool) -> str:
    r"""The engine (``"reference"``, ``"eager"``, ``"compiled"`` or ``"triton"``)
    that a neuron with ``backend`` runs for an input on ``device_type``.

    An explicit backend is returned as it is, or raises :class:`ValueError`
    naming why it cannot run (see :func:`backend_problem`; ``"triton"`` also
    needs a CUDA input). ``"auto"`` gives the reference path to the exact-Leaky
    ``twin`` and to options the fused engines do not cover; else the default of
    :func:`configure` where it can run, else ``"compiled"`` on CUDA and
    ``"eager"`` elsewhere:

    .. math::

        \text{auto} \mapsto \begin{cases} \text{reference} & \text{twin or not covered} \\
        \text{configured default} & \text{if usable} \\
        \text{compiled} & \text{CUDA} \\ \text{eager} & \text{otherwise}\end{cases}

    Example::

        >>> resolve("auto", "cpu", None, windowed=True, twin=False)
        'eager'
        >>> resolve("auto", "cuda", None, windowed=True, twin=False)
        'compiled'
        >>> resolve("auto", "cuda", None, windowed=False, twin=True)
        'reference'
    """
    if backend != "auto":
        problem = backend_problem(backend, unsupported, windowed) \
            or _device_problem(backend, device_type)
        if problem:
            raise ValueError(f"backend={backend!r} cannot run this neuron: {problem}; "
                             "pass backend='auto' to let the neuron choose")
        return backend
    if twin or unsupported is not None:
        return "reference"
    default = _SETTINGS["backend"]
    if default != "auto" and not (backend_problem(default, unsupported, windowed)
                                  or _device_problem(default, device_type)):
        return default
    return "compiled" if device_type == "cuda" else "eager"


def _fresh_copy(fn):
    # a function with its own code object: torch.compile keeps its cache (and its
    # recompile limit) per code object, and every configuration/shape gets one
    return types.FunctionType(fn.__code__.replace(), fn.__globals__, fn.__name__,
                              fn.__defaults__, fn.__closure__)


_ENGINES = {"fwd": (eager.forward, pure.forward), "bwd": (eager.backward, pure.backward)}


def run(kind, engine, cfg, key_extra, *args):
    """Run the forward (``"fwd"``) or backward (``"bwd"``) math: the pure math
    inline while a model is being compiled, a compiled copy of it for the
    ``"compiled"`` engine, else the eager engine. A compile that fails falls
    back to the eager math, with one warning."""
    eager_fn, pure_fn = _ENGINES[kind]
    if torch.compiler.is_compiling():
        return pure_fn(cfg, *args)
    if engine != "compiled":
        return eager_fn(cfg, *args)
    key = (kind, cfg, key_extra, _SETTINGS["compile_backend"])
    if key in _COMPILE_FAILED:
        return eager_fn(cfg, *args)
    compiled = _COMPILED.get(key)
    if compiled is None:
        # dynamic=None: static first; a new batch size recompiles once with a
        # dynamic batch dimension (the key leaves the batch size out)
        compiled = torch.compile(_fresh_copy(pure_fn), backend=_SETTINGS["compile_backend"],
                                 dynamic=None, fullgraph=True)
        _COMPILED[key] = compiled
    try:
        return compiled(cfg, *args)
    except Exception as err:  # a missing compiler, an unsupported backend, ...
        _COMPILE_FAILED.add(key)
        warnings.warn(f"snntorch_ms fused scan: torch.compile failed ({type(err).__name__}: "
                      f"{err}); using the eager math", RuntimeWarning, stacklevel=3)
        return eager_fn(cfg, *args)
