"""ProjLeaky: a leaky integrate-and-fire neuron that runs its receptive-field
windows as sub-steps of one time step, carrying a projected membrane."""

from __future__ import annotations

import warnings

import torch
from snntorch import Leaky

from ..export import nir_trace_guard  # NIR export guard, see nir_exportable
from ..functional.fused import FusedConfig, fused_unsupported, fused_window_scan, recognise_surrogate
from ..functional.projection import get_projection
from ..functional.update import window_scan
from ..functional.windows import (
    check_scheme,
    cut_windows,
    recompose_membrane,
    recompose_spikes,
    window_boxes,
)

__all__ = ["ProjLeaky"]

CONDENSE = ("or", "mean")


def _as_scalar_or_vector(name, value):
    value = torch.as_tensor(value) if not isinstance(value, torch.Tensor) else value
    if value.dim() > 1:
        raise ValueError(
            f"{name} must be a scalar or a per-channel vector [C], got shape "
            f"{tuple(value.shape)}"
        )
    return value


class ProjLeaky(Leaky):
    r"""Leaky integrate-and-fire neuron that processes receptive-field windows as
    sub-steps of a single time step, with a projected carried membrane
    (Yao et al., ACML 2023).

    The input map is cut into ``g`` windows (see
    :func:`~snntorch_ms.functional.window_boxes`). Inside one time step the
    windows are processed one after another, like time steps of one LIF neuron:
    the membrane left by window :math:`p-1`, at the same position within the
    window, starts window :math:`p` after the projection :math:`\Omega`, which can
    merge it with the previous layer's membrane :math:`L_{p-1}` (``lateral``):

    .. math::

        C_p &= \Omega(U_{p-1}, L_{p-1}), \qquad
            \Omega_{\rm sincos}(a, b) = 2\sin\!\left(\tfrac{\theta\pi}{2}a\right)
            \cos\!\left(\tfrac{\theta\pi}{2}b\right) \\
        R_{p-1} &= \Theta(U_{p-1} - U_{\rm thr}) \quad \text{(detached)} \\
        U_p &= \beta C_p + I_p - R_{p-1} U_{\rm thr}
            \quad \text{(reset\_mechanism="subtract")} \\
        U_p &= \beta (1 - R_{p-1}) C_p + I_p \quad \text{("zero")}, \qquad
        U_p = \beta C_p + I_p \quad \text{("none")} \\
        S_p &= \Theta(U_p - U_{\rm thr}) \cdot s

    Window 1 has no :math:`L_0` (:math:`\Omega(a)` is used), and starts from the
    membrane of window :math:`g` of the previous time step, so ``T > 1`` continues
    the sequence. On a map the output spikes are recomposed: the mean :math:`M`
    of :math:`S_p` over the windows that cover a position, condensed to
    :math:`s\,\mathbb{1}[M > 0]` (``condense="or"``, straight-through gradient) or
    kept (``condense="mean"``); the output membrane holds, at each position, the
    value of the *last* window covering it, so it is the whole state of the neuron.

    With ``windows=None`` (or ``groups=1``) and ``projection="none"`` this is
    exactly :class:`snntorch.Leaky`.

    **Layouts.** A *map* ``[B, C, H, W]`` is cut by the neuron; a *window stack*
    ``[B, g, C, h, w]`` (from :func:`~snntorch_ms.functional.cut_windows`, or a
    synapse run per window) is used as it is and spikes and membrane come back
    as stacks (recompose them with
    :func:`~snntorch_ms.functional.recompose_spikes`). ``lateral`` has the
    input's layout and shape. With ``windows=None`` any shape is accepted; a
    single window has no window :math:`p-1`, so ``lateral`` is then checked but
    has no effect.

    Example::

        >>> import torch
        >>> from snntorch_ms import ProjLeaky
        >>> lif = ProjLeaky(beta=0.5, threshold=0.5, windows="quad", groups=4)
        >>> x = torch.rand(2, 3, 8, 8)
        >>> spk, mem = lif(x)
        >>> spk.shape, mem.shape
        (torch.Size([2, 3, 8, 8]), torch.Size([2, 3, 8, 8]))

    :param beta: membrane decay rate, clipped to ``[0, 1]``; scalar or per-channel ``[C]``
    :type beta: float or torch.Tensor
    :param threshold: firing threshold :math:`U_{\rm thr} > 0`; scalar or ``[C]``. Defaults to 1.0
    :type threshold: float or torch.Tensor, optional
    :param theta: projection scale :math:`\theta > 0`. Defaults to 0.5 (the paper's value)
    :type theta: float or torch.Tensor, optional
    :param windows: ``"quad"``, ``"overlap"`` or ``None`` (no windows). Defaults to ``"quad"``
    :type windows: str or None, optional
    :param groups: number of windows ``g`` in ``{1, 2, 4}``. Defaults to 4
    :type groups: int, optional
    :param projection: ``"sincos"``, ``"nested"``, ``"mean"``, ``"none"`` or a callable
        ``f(a, b)`` receiving ``b=None`` when there is no lateral membrane. Defaults to ``"sincos"``
    :type projection: str or callable, optional
    :param condense: ``"or"`` (binary spikes) or ``"mean"`` (graded mean) for a map. Defaults to ``"or"``
    :type condense: str, optional
    :param spike_grad: surrogate gradient from :mod:`snntorch.surrogate` or
        :func:`snntorch_ms.surrogate.rectangular`. Defaults to None (atan)
    :param surrogate_disable: as in :class:`snntorch.Leaky`. Defaults to False
    :param init_hidden: keep the state in ``self.mem``. Defaults to False
    :param inhibition: as in :class:`snntorch.Leaky`; an error with windows. Defaults to False
    :param learn_beta: make ``beta`` a parameter. Defaults to False
    :param learn_threshold: make ``threshold`` a parameter. Defaults to False
    :param learn_theta: make ``theta`` a parameter. Defaults to False
    :param reset_mechanism: ``"subtract"``, ``"zero"`` or ``"none"``. Defaults to ``"subtract"``
    :param state_quant: quantization function applied per sub-step. Defaults to False
    :param output: with ``init_hidden=True``, also return the membrane. Defaults to False
    :param graded_spikes_factor: spike magnitude :math:`s`. Defaults to 1.0
    :param learn_graded_spikes_factor: make :math:`s` a parameter. Defaults to False
    :param reset_delay: as in :class:`snntorch.Leaky`, applied per sub-step. Defaults to True
    :param fused: run the whole time step as one fused autograd function with a
        hand-written backward (:mod:`snntorch_ms.functional.fused`; same spikes,
        membranes and gradients to float tolerance, less memory and time). Options
        it does not cover (a callable projection, an unknown surrogate,
        ``state_quant``, ``inhibition``, ``reset_delay=False``, a learnable
        ``graded_spikes_factor``) fall back to the reference path with one warning.
        See also :func:`snntorch_ms.fused.use_fused`. Defaults to False

    Inputs: ``input_``, ``mem``, ``lateral``
        - **input_** ``[B, C, H, W]``, ``[B, g, C, h, w]``, or any shape with ``windows=None``
        - **mem** the membrane in the input's layout (or None: the stored state)
        - **lateral** the previous layer's membrane, input's shape (or None)

    Outputs: spk, mem (only spk with ``init_hidden=True`` and ``output=False``)
    """

    def __init__(
        self,
        beta,
        threshold=1.0,
        theta=0.5,
        windows="quad",
        groups=4,
        projection="sincos",
        condense="or",
        spike_grad=None,
        surrogate_disable=False,
        init_hidden=False,
        inhibition=False,
        learn_beta=False,
        learn_threshold=False,
        learn_theta=False,
        reset_mechanism="subtract",
        state_quant=False,
        output=False,
        graded_spikes_factor=1.0,
        learn_graded_spikes_factor=False,
        reset_delay=True,
        fused=False,
    ):
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
        beta = _as_scalar_or_vector("beta", beta)
        threshold = _as_scalar_or_vector("threshold", threshold)
        theta = _as_scalar_or_vector("theta", theta)
        # value checks live here: inside forward they would break torch.compile
        if not bool((threshold > 0).all()):
            raise ValueError(f"threshold must be > 0, got {threshold.tolist()}")
        if not bool((theta > 0).all()):
            raise ValueError(f"theta must be > 0, got {theta.tolist()}")
        super().__init__(
            beta,
            threshold=threshold,
            spike_grad=spike_grad,
            surrogate_disable=surrogate_disable,
            init_hidden=init_hidden,
            inhibition=inhibition,
            learn_beta=learn_beta,
            learn_threshold=learn_threshold,
            reset_mechanism=reset_mechanism,
            state_quant=state_quant,
            output=output,
            graded_spikes_factor=graded_spikes_factor,
            learn_graded_spikes_factor=learn_graded_spikes_factor,
            reset_delay=reset_delay,
        )
        theta = theta.clone() if theta.is_floating_point() else theta.float()
        if learn_theta:
            self.theta = torch.nn.Parameter(theta)
        else:
            self.register_buffer("theta", theta)
        self.windows = windows
        self.groups = groups
        self.windowed = windowed
        self.projection = projection
        self.condense = condense
        self._project = project
        # NIR export guard (snntorch_ms/export.py): snntorch's exporter writes any
        # Leaky subclass as a plain nir.LIF; a neuron that is not exactly a Leaky
        # gets a pre-hook that raises while nirtorch's graph tracer runs it.
        if not self.nir_exportable:
            self.register_forward_pre_hook(nir_trace_guard)
        # fused window scan (snntorch_ms/functional/fused.py), off by default
        self.fused = fused

    def extra_repr(self) -> str:
        proj = self.projection if isinstance(self.projection, str) else "callable"
        return (
            f"windows={self.windows!r}, groups={self.groups}, projection={proj!r}, "
            f"condense={self.condense!r}, reset_mechanism={self.reset_mechanism!r}"
        )

    # -- NIR export (see snntorch_ms/export.py) ---------------------------------

    @property
    def nir_exportable(self) -> bool:
        """Whether NIR export as a plain ``nir.LIF`` is faithful: True only when
        this neuron is exactly :class:`snntorch.Leaky` (no windows, or
        ``groups=1``, and ``projection="none"``)."""
        return not self.windowed and self.projection == "none"

    # -- layout helpers -------------------------------------------------------

    def _layout(self, input_: torch.Tensor) -> str:
        if not self.windowed:
            return "any"
        if input_.dim() == 4:
            return "map"
        if input_.dim() == 5:
            if input_.shape[1] != self.groups:
                raise ValueError(
                    f"a window stack must be [B, g={self.groups}, C, h, w], got shape "
                    f"{tuple(input_.shape)}"
                )
            return "stack"
        raise ValueError(
            f"ProjLeaky with windows={self.windows!r} needs a map [B, C, H, W] or a window "
            f"stack [B, g, C, h, w], got shape {tuple(input_.shape)}; pass windows=None "
            "to use it on other shapes"
        )

    def _channel_view(self, value: torch.Tensor, channels: int) -> torch.Tensor:
        # per-channel [C] values broadcast over [C, h, w]
        if value.dim() == 1 and value.numel() > 1:
            if value.numel() != channels:
                raise ValueError(
                    f"per-channel parameter has {value.numel()} entries but the input "
                    f"has {channels} channels"
                )
            return value.view(channels, 1, 1)
        return value

    # -- fused path (snntorch_ms/functional/fused.py) ---------------------------

    def _fused_supported(self):
        """``(True, None)`` when the fused scan covers this neuron's options, else
        ``(False, name of the first option it does not cover)``."""
        reason = fused_unsupported(
            projection=self.projection, spike_grad=self.spike_grad,
            reset_mechanism=self.reset_mechanism, condense=self.condense,
            state_quant=self.state_quant, inhibition=self.inhibition,
            reset_delay=self.reset_delay, graded_spikes_factor=self.graded_spikes_factor)
        return reason is None, reason

    def _fused_forward(self, layout, input_, lateral, beta, threshold, theta, gsf):
        """The time step through :class:`~snntorch_ms.functional.fused.FusedWindowScan`."""
        surrogate = recognise_surrogate(self.spike_grad)
        if layout == "map":
            height, width = input_.shape[-2:]
            cfg = FusedConfig.for_map(height, width, self.windows, self.groups, self.projection,
                                      self.reset_mechanism, self.condense, surrogate)
            t, b, l, r = cfg.boxes[-1]
            return fused_window_scan(cfg, input_, self.mem[..., t:b, l:r], lateral, beta,
                                     threshold, theta, gsf)
        cfg = FusedConfig.for_stack(self.projection, self.reset_mechanism, surrogate)
        if layout == "stack":
            return fused_window_scan(cfg, input_, self.mem[:, -1], lateral, beta, threshold,
                                     theta, gsf)
        spk, mem = fused_window_scan(cfg, input_.unsqueeze(1), self.mem, None, beta, threshold,
                                     theta, gsf)
        return spk[:, 0], mem[:, 0]

    # -- forward ---------------------------------------------------------------

    def forward(self, input_, mem=None, lateral=None):
        if mem is not None:
            if self.init_hidden:
                raise TypeError(
                    "`mem` should not be passed as an argument while `init_hidden=True`"
                )
            self.mem = mem
        layout = self._layout(input_)
        if lateral is not None and lateral.shape != input_.shape:
            raise ValueError(
                f"lateral membrane has shape {tuple(lateral.shape)} but the input has "
                f"shape {tuple(input_.shape)}: pass the previous layer's membrane in "
                "the input's layout"
            )
        if self.mem.shape != input_.shape:
            # a new shape (e.g. a new batch size) starts from a fresh state, as Leaky does
            self.mem = torch.zeros_like(input_, device=self.mem.device)

        beta, threshold, theta = self.beta, self.threshold, self.theta
        gsf = self.graded_spikes_factor
        if layout != "any":
            channels = input_.shape[-3]
            beta = self._channel_view(beta, channels)
            threshold = self._channel_view(threshold, channels)
            theta = self._channel_view(theta, channels)
            gsf = self._channel_view(gsf, channels)

        # fused path: dispatch when asked for and supported, else warn once and go on
        use_fused = False
        if self.fused:
            use_fused, option = self._fused_supported()
            if input_.dim() == 0:
                use_fused, option = False, "a 0-dim input"
            if not use_fused and not getattr(self, "_fused_warned", False):
                self._fused_warned = True
                warnings.warn(f"ProjLeaky(fused=True): the fused path does not support "
                              f"{option}; using the reference path", UserWarning, stacklevel=2)

        if use_fused:
            spk, new_mem = self._fused_forward(layout, input_, lateral, beta, threshold,
                                               theta, gsf)
        else:
            spk, new_mem = self._reference_forward(layout, input_, lateral, beta, threshold,
                                                   theta, gsf)
        self.mem = new_mem

        if self.output:
            return spk, self.mem
        elif self.init_hidden:
            return spk
        else:
            return spk, self.mem

    def _reference_forward(self, layout, input_, lateral, beta, threshold, theta, gsf):
        """The time step through the pure functions of :mod:`snntorch_ms.functional`."""
        if layout == "map":
            height, width = input_.shape[-2:]
            boxes = window_boxes(height, width, self.windows, self.groups)
            t, b, l, r = boxes[-1]
            cur = cut_windows(input_, self.windows, self.groups)
            lat = cut_windows(lateral, self.windows, self.groups) if lateral is not None else None
            carried = self.mem[..., t:b, l:r]
        elif layout == "stack":
            cur, lat, carried = input_, lateral, self.mem[:, -1]
        else:
            cur, lat, carried = input_.unsqueeze(1), None, self.mem

        fire = None
        if self.inhibition:
            def fire(m):
                return self.fire_inhibition(m.size(0), m)

        spk, new_mem = window_scan(
            cur,
            carried,
            lat,
            beta=beta,
            threshold=threshold,
            theta=theta,
            projection=self._project,
            spike_fn=self.spike_grad,
            reset_mechanism=self.reset_mechanism,
            graded_spikes_factor=gsf,
            state_quant=self.state_quant,
            reset_delay=self.reset_delay,
            fire=fire,
        )

        if layout == "map":
            size = input_.shape[-2:]
            spk = recompose_spikes(spk, size, self.windows, self.condense, magnitude=gsf)
            new_mem = recompose_membrane(new_mem, size, self.windows)
        elif layout == "any":
            spk, new_mem = spk[:, 0], new_mem[:, 0]
        return spk, new_mem
