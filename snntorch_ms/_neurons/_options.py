"""ProjLeaky's options, checked once when the neuron is built: the option names
and values it accepts, and the shapes a neuron parameter may take with windows."""

from __future__ import annotations

import torch

from ..functional.fused.backend import check_backend
from ..functional.projection import get_projection
from ..functional.update import RESET_MECHANISMS
from ..functional.windows import check_scheme

__all__: list = []  # the neuron's own checks: reached through ProjLeaky

CONDENSE = ("or", "mean")

#: ProjLeaky's own parameters, keyword-only after Leaky's.
OWN_KEYWORDS = ("theta", "windows", "groups", "projection", "condense", "learn_theta",
                "backend")


def per_channel_length(value: torch.Tensor):
    """``None`` for a scalar (one element, at most one dimension), ``C`` for a
    per-channel ``[C]`` or ``[C, 1, 1]``, ``-1`` for any other shape."""
    if value.dim() <= 1 and value.numel() == 1:
        return None
    if value.dim() == 1 or (value.dim() == 3 and tuple(value.shape[1:]) == (1, 1)):
        return value.shape[0]
    return -1


def check_parameter(name: str, value, windowed: bool) -> torch.Tensor:
    """``value`` as a tensor; with windows, an error unless scalar or per-channel.

    Without windows any shape is accepted and broadcast against the input as
    snntorch's Leaky does (a 1-D vector then runs along the input's last
    dimension)."""
    value = value if isinstance(value, torch.Tensor) else torch.as_tensor(value)
    if windowed and per_channel_length(value) == -1:
        raise ValueError(
            f"{name} has shape {tuple(value.shape)}: with windows a neuron parameter must "
            "be a scalar or per-channel, [C] or [C, 1, 1]; a per-position value has no "
            "meaning across windows (a window sub-step runs on h x w positions that lie at "
            "a different place of the map in every window); pass windows=None for "
            "snntorch.Leaky's broadcasting of any shape"
        )
    return value


def check_options(beta, threshold, theta, graded_spikes_factor, *, reset_mechanism, windows,
                  groups, projection, condense, inhibition, backend):
    """Check ProjLeaky's options (value checks here: inside ``forward`` they would
    break :func:`torch.compile`); return ``(windowed, project, beta, threshold,
    theta, graded_spikes_factor)``: whether the neuron has windows, the projection
    function, and the four parameters as tensors."""
    check_backend(backend)
    if reset_mechanism not in RESET_MECHANISMS:
        raise ValueError(f"unknown reset_mechanism={reset_mechanism!r}: expected one of "
                         f"{RESET_MECHANISMS}")
    check_scheme(windows, groups, allow_none=True)
    project = get_projection(projection)  # raises on an unknown projection
    if condense not in CONDENSE:
        raise ValueError(f"unknown condense={condense!r}: expected one of {CONDENSE}")
    windowed = windows is not None and groups > 1
    if inhibition and windowed:
        raise ValueError(
            "inhibition is not defined across windows: pass windows=None (or groups=1) "
            "to use inhibition"
        )
    beta = check_parameter("beta", beta, windowed)
    threshold = check_parameter("threshold", threshold, windowed)
    theta = check_parameter("theta", theta, windowed)
    graded_spikes_factor = check_parameter("graded_spikes_factor", graded_spikes_factor,
                                           windowed)
    if not bool((threshold > 0).all()):
        raise ValueError(f"threshold must be > 0, got {threshold.tolist()}")
    if not bool((theta > 0).all()):
        raise ValueError(f"theta must be > 0, got {theta.tolist()}")
    return windowed, project, beta, threshold, theta, graded_spikes_factor
