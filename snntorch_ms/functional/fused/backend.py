r"""The one place that decides how the fused time step runs: which engine
(eager tensor code, :func:`torch.compile`'d pure math, Triton kernels) for a
tensor on a device.

:func:`configure` sets it for the process; ``SNNTORCH_MS_FUSED_COMPILE`` and
``SNNTORCH_MS_FUSED_TRITON`` (``0``/``1``) give the initial values.
"""

from __future__ import annotations

import os
import types
import warnings
from typing import Optional

import torch

from . import eager, pure

__all__ = ["configure", "settings", "compile_enabled", "triton_enabled", "triton_available"]

_UNSET = object()
_SETTINGS = {"compile": None, "compile_backend": "inductor", "triton": None}
_COMPILED: dict = {}
_COMPILE_FAILED: set = set()


def configure(*, compile=_UNSET, triton=_UNSET, compile_backend=_UNSET) -> dict:
    r"""Choose how the fused path runs, for the whole process; returns the
    settings as they were before (pass them back to restore).

    * ``compile``: run the pure fused math compiled with :func:`torch.compile`
      (``True``), never (``False``), or ``None`` (default): compiled on CUDA,
      eager on the CPU, where a cold inductor compile takes minutes per graph.
      One graph per configuration and input shape, built on first use; when
      compiling fails the eager math runs, with one warning.
    * ``triton``: use the hand-written Triton kernels on CUDA tensors
      (``True``), never (``False``), or ``None`` (default): only when
      ``SNNTORCH_MS_FUSED_TRITON=1``. With ``TRITON_INTERPRET=1`` they also run
      (slowly) on CPU tensors, for testing.
    * ``compile_backend``: the :func:`torch.compile` backend. Defaults to ``"inductor"``.

    Arguments left out keep their value. The engines compute the same time step

    .. math::

        (S, U) = \mathrm{recompose}\big(\mathrm{scan}_{p=1..g}(I_p, U_{p-1}, L_{p-1})\big)

    Example::

        >>> old = configure(compile=False)
        >>> compile_enabled(torch.device("cuda"))
        False
        >>> _ = configure(**old)
    """
    old = dict(_SETTINGS)
    for key, value in (("compile", compile), ("triton", triton),
                       ("compile_backend", compile_backend)):
        if value is not _UNSET:
            _SETTINGS[key] = value
    return old


def settings() -> dict:
    r"""The current settings of :func:`configure` (``None``: the default rule).

    .. math::

        \{\text{compile}, \text{compile\_backend}, \text{triton}\}

    Example::

        >>> sorted(settings())
        ['compile', 'compile_backend', 'triton']
    """
    return dict(_SETTINGS)


def _env_flag(name: str) -> Optional[bool]:
    value = os.environ.get(name)
    if value is None:
        return None
    return value.strip().lower() not in ("0", "false", "no", "")


def compile_enabled(device) -> bool:
    r"""Whether the fused math runs compiled for tensors on ``device``
    (see :func:`configure`).

    .. math::

        \text{compiled} = \begin{cases} \text{setting} & \text{set} \\
        \text{SNNTORCH\_MS\_FUSED\_COMPILE} & \text{in the environment} \\
        \text{device is CUDA} & \text{otherwise}\end{cases}

    Example::

        >>> isinstance(compile_enabled(torch.device("cpu")), bool)
        True
    """
    enabled = _SETTINGS["compile"]
    if enabled is None:
        enabled = _env_flag("SNNTORCH_MS_FUSED_COMPILE")
    if enabled is None:
        return torch.device(device).type == "cuda"
    return bool(enabled)


def triton_available() -> bool:
    r"""Whether :mod:`triton` imports.

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


def triton_enabled(x: torch.Tensor) -> bool:
    r"""Whether the fused scan of ``x`` runs the Triton kernels (see
    :func:`configure`): enabled, Triton importable, and ``x`` on CUDA (or any
    device under ``TRITON_INTERPRET=1``).

    .. math::

        \text{use} = \text{enabled} \wedge \text{triton} \wedge
        (\text{CUDA} \vee \text{interpreter})

    Example::

        >>> triton_enabled(torch.zeros(1)) in (True, False)
        True
    """
    enabled = _SETTINGS["triton"]
    if enabled is None:
        enabled = bool(_env_flag("SNNTORCH_MS_FUSED_TRITON"))
    if not enabled or torch.compiler.is_compiling():
        return False
    if not (x.is_cuda or os.environ.get("TRITON_INTERPRET", "0") == "1"):
        return False
    return triton_available()


def _fresh_copy(fn):
    # a function with its own code object: torch.compile keeps its cache (and its
    # recompile limit) per code object, and every configuration/shape gets one
    return types.FunctionType(fn.__code__.replace(), fn.__globals__, fn.__name__,
                              fn.__defaults__, fn.__closure__)


_ENGINES = {"fwd": (eager.forward, pure.forward), "bwd": (eager.backward, pure.backward)}


def run(kind, cfg, key_extra, device, *args):
    """Run the forward (``"fwd"``) or backward (``"bwd"``) math: the pure math
    inline while a model is being compiled, a compiled copy of it when enabled,
    else the eager engine."""
    eager_fn, pure_fn = _ENGINES[kind]
    if torch.compiler.is_compiling():
        return pure_fn(cfg, *args)
    if not compile_enabled(device):
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
