"""snntorch-ms: the one-time-step ProjLeaky neuron for snntorch.

>>> from snntorch_ms import ProjLeaky
"""

__version__ = "0.1.0"

from . import functional, fused, surrogate, utils
from ._neurons import ProjLeaky

__all__ = ["ProjLeaky", "functional", "fused", "surrogate", "utils", "__version__"]
