"""Pure tensor functions behind the neurons: windows, projection, the update,
surrogates; :mod:`.spec` defines every option's formula once, and :mod:`.fused`
runs the whole time step as one autograd function."""

from .projection import (
    PROJECTIONS,
    get_projection,
    identity_projection,
    mean_projection,
    nested_projection,
    projection_ops,
    projection_work,
    sincos_projection,
)
from .surrogate import Rectangular, rectangular
from .update import RESET_MECHANISMS, membrane_update, neuron_step, reset_signal, window_scan
from .windows import (
    GROUPS,
    WINDOW_SCHEMES,
    coverage,
    cut_windows,
    recompose_membrane,
    recompose_spikes,
    window_boxes,
    window_size,
)

__all__ = [
    "PROJECTIONS", "get_projection", "identity_projection", "mean_projection",
    "nested_projection", "projection_ops", "projection_work", "sincos_projection",
    "Rectangular", "rectangular",
    "RESET_MECHANISMS", "membrane_update", "neuron_step", "reset_signal", "window_scan",
    "GROUPS", "WINDOW_SCHEMES", "coverage", "cut_windows", "recompose_membrane",
    "recompose_spikes", "window_boxes", "window_size",
]
