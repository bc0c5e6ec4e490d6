"""snntorch-ms: the one-time-step ProjLeaky neuron for snntorch.

>>> from snntorch_ms import ProjLeaky
"""

__version__ = "0.4.0"

from . import functional, surrogate, utils
from ._neurons import ProjLeaky
from .convert import convert_leaky

__all__ = ["ProjLeaky", "convert_leaky", "functional", "surrogate", "utils", "__version__"]
