"""snntorch-ms: the one-time-step ProjLeaky neuron for snntorch.

>>> from snntorch_ms import ProjLeaky
"""

__version__ = "0.3.0"

from . import functional, fused, surrogate, utils
from ._neurons import ProjLeaky
from .convert import convert_leaky

__all__ = ["ProjLeaky", "convert_leaky", "functional", "fused", "surrogate", "utils",
           "__version__"]
