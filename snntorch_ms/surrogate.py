"""Surrogate gradients added by snntorch-ms, in :mod:`snntorch.surrogate`'s style.

Every surrogate of :mod:`snntorch.surrogate` works as ``spike_grad`` too.
"""

from .functional.surrogate import Rectangular, rectangular

__all__ = ["Rectangular", "rectangular"]
