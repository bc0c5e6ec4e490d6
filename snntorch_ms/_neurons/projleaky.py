"""ProjLeaky: a leaky integrate-and-fire neuron that runs its receptive-field
windows as sub-steps of one time step, carrying a projected membrane."""

from __future__ import annotations

import torch
from snntorch import Leaky

from ..functional.fused import FusedConfig, fused_unsupported, fused_window_scan
from ..functional.fused.backend import backend_problem, check_backend, resolve, settings
from ..functional.spec import recognise_surrogate
from ..functional.projection import get_projection
from ..functional.update import RESET_MECHANISMS, neuron_step, window_scan
from ._instances import forget
from ._nir import nir_trace_guard
from ..functional.windows import (
    check_scheme,
    cut_windows,
    recompose_membrane,
    recompose_spikes,
    window_boxes,
)

__all__ = ["ProjLeaky"]

CONDENSE = ("or", "mean")

#: ProjLeaky's own parameters, keyword-only after Leaky's.
OWN_KEYWORDS = ("theta", "windows", "groups", "projection", "condense", "learn_theta",
                "backend")

def _per_channel_length(value: torch.Tensor):
    """``None`` for a scalar (one element, at most one dimension), ``C`` for a
    per-channel ``[C]`` or ``[C, 1, 1]``, ``-1`` for any other shape."""
    if value.dim() <= 1 and value.numel() == 1:
        return None
    if value.dim() == 1 or (value.dim() == 3 and tuple(value.shape[1:]) == (1, 1)):
        return value.shape[0]
    return -1


def _check_parameter(name: str, value, windowed: bool) -> torch.Tensor:
    """``value`` as a tensor; with windows, an error unless scalar or per-channel.

    Without windows any shape is accepted and broadcast against the input as
    snntorch's Leaky does (a 1-D vector then runs along the input's last
    dimension)."""
    value = value if isinstance(value, torch.Tensor) else torch.as_tensor(value)
    if windowed and _per_channel_length(value) == -1:
        raise ValueError(
            f"{name} has shape {tuple(value.shape)}: with windows a neuron parameter must "
            "be a scalar or per-channel, [C] or [C, 1, 1]; a per-position value has no "
            "meaning across windows (a window sub-step runs on h x w positions that lie at "
            "a different place of the map in every window); pass windows=None for "
            "snntorch.Leaky's broadcasting of any shape"
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
    exactly :class:`snntorch.Leaky`, spike for spike and gradient for gradient.
    ``windows=None`` alone is not: the default ``projection="sincos"`` still
    projects the membrane carried from one time step to the next.

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

    **Arguments.** snntorch.Leaky's parameters come first, in Leaky's order and
    with Leaky's meaning (``ProjLeaky(0.9, 1.0, surrogate.fast_sigmoid())`` means
    what it means for Leaky); ProjLeaky's own parameters (``theta`` to ``backend``)
    are keyword-only.

    :param beta: membrane decay rate, clipped to ``[0, 1]``. Without windows any
        shape Leaky accepts (broadcast against the input as in Leaky); with windows
        a scalar or per-channel ``[C]`` / ``[C, 1, 1]``
    :type beta: float or torch.Tensor
    :param threshold: firing threshold :math:`U_{\rm thr} > 0`; shapes as for
        ``beta``. Defaults to 1.0
    :type threshold: float or torch.Tensor, optional
    :param spike_grad: surrogate gradient from :mod:`snntorch.surrogate` or
        :func:`snntorch_ms.surrogate.rectangular`. Defaults to None (atan)
    :type spike_grad: callable, optional
    :param surrogate_disable: as in :class:`snntorch.Leaky`. Defaults to False
    :type surrogate_disable: bool, optional
    :param init_hidden: keep the state in ``self.mem``. Defaults to False
    :type init_hidden: bool, optional
    :param inhibition: as in :class:`snntorch.Leaky`; an error with windows. Defaults to False
    :type inhibition: bool, optional
    :param learn_beta: make ``beta`` a parameter. Defaults to False
    :type learn_beta: bool, optional
    :param learn_threshold: make ``threshold`` a parameter. Defaults to False
    :type learn_threshold: bool, optional
    :param reset_mechanism: ``"subtract"``, ``"zero"`` or ``"none"``; may be
        changed after construction (takes effect at the next call). Defaults to ``"subtract"``
    :type reset_mechanism: str, optional
    :param state_quant: quantization function applied per sub-step. Defaults to False
    :type state_quant: callable or bool, optional
    :param output: with ``init_hidden=True``, also return the membrane. Defaults to False
    :type output: bool, optional
    :param graded_spikes_factor: spike magnitude :math:`s`; shapes as for ``beta``.
        Defaults to 1.0
    :type graded_spikes_factor: float or torch.Tensor, optional
    :param learn_graded_spikes_factor: make :math:`s` a parameter. Defaults to False
    :type learn_graded_spikes_factor: bool, optional
    :param reset_delay: as in :class:`snntorch.Leaky`, applied per sub-step. Defaults to True
    :type reset_delay: bool, optional
    :param theta: (keyword-only) projection scale :math:`\theta > 0`; shapes as
        for ``beta``. Defaults to 0.5 (the paper's value)
    :type theta: float or torch.Tensor, optional
    :param windows: (keyword-only) ``"quad"``, ``"overlap"`` or ``None`` (no
        windows). Defaults to ``"quad"``
    :type windows: str or None, optional
    :param groups: (keyword-only) number of windows ``g`` in ``{1, 2, 4}``. Defaults to 4
    :type groups: int, optional
    :param projection: (keyword-only) ``"sincos"``, ``"nested"``, ``"mean"``,
        ``"none"`` or a callable ``f(a, b)`` receiving ``b=None`` when there is no
        lateral membrane. Defaults to ``"sincos"``
    :type projection: str or callable, optional
    :param condense: (keyword-only) ``"or"`` (binary spikes) or ``"mean"``
        (graded mean) for a map. Defaults to ``"or"``
    :type condense: str, optional
    :param learn_theta: (keyword-only) make ``theta`` a parameter. Defaults to False
    :type learn_theta: bool, optional
    :param backend: (keyword-only) the engine of the time step, one setting.
        ``"reference"``: autograd over the pure functions of
        :mod:`snntorch_ms.functional`. ``"eager"``, ``"compiled"``, ``"triton"``:
        one fused autograd function with a hand-written backward
        (:mod:`snntorch_ms.functional.fused`; same spikes, membranes and
        gradients to float tolerance, less memory and time) on eager tensor
        code, on its math compiled with :func:`torch.compile`, or on Triton
        kernels (CUDA, windows only). An explicit engine is checked when it is
        set: options it does not cover (a callable projection, an unknown
        surrogate, ``state_quant``, ``inhibition``, ``reset_delay=False``, a
        learnable ``graded_spikes_factor``) or a missing library raise there,
        naming why. ``"auto"``: resolved at the first call per device type (and
        again when an option, the device or
        :func:`~snntorch_ms.functional.fused.configure` changes): ``"eager"`` on
        the CPU, ``"compiled"`` on CUDA (or the process-wide default of
        :func:`~snntorch_ms.functional.fused.configure`), the reference path for
        options the fused engines do not cover and for the exact-Leaky twin (no
        windows, ``projection="none"``, to keep its bit-for-bit contract).
        May be set after construction. Defaults to ``"auto"``
    :type backend: str, optional
    :raises ValueError: for an unknown option, ``threshold <= 0``, ``theta <= 0``,
        inhibition with windows, a per-position parameter with windows, or a
        ``backend`` these options cannot use
    :raises ImportError: for ``backend="triton"`` without triton

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
        spike_grad=None,
        surrogate_disable=False,
        init_hidden=False,
        inhibition=False,
        learn_beta=False,
        learn_threshold=False,
        reset_mechanism="subtract",
        state_quant=False,
        output=False,
        graded_spikes_factor=1.0,
        learn_graded_spikes_factor=False,
        reset_delay=True,
        *,
        theta=0.5,
        windows="quad",
        groups=4,
        projection="sincos",
        condense="or",
        learn_theta=False,
        backend="auto",
    ):
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
        beta = _check_parameter("beta", beta, windowed)
        threshold = _check_parameter("threshold", threshold, windowed)
        theta = _check_parameter("theta", theta, windowed)
        graded_spikes_factor = _check_parameter("graded_spikes_factor",
                                                graded_spikes_factor, windowed)
        # value checks live here: inside forward they would break torch.compile
        if not bool((threshold > 0).all()):
            raise ValueError(f"threshold must be > 0, got {threshold.tolist()}")
        if not bool((theta > 0).all()):
            raise ValueError(f"theta must be > 0, got {theta.tolist()}")
        # snntorch's constructor enters the neuron in the class-wide instances list
        # first; one that then fails must not stay there half-built (detach_hidden
        # and reset_hidden walk that list and would meet a neuron without mem)
        try:
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
        except Exception:
            forget(self)
            raise
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
        try:
            self.backend = backend  # checked against the options (see the setter)
        except Exception:
            forget(self)
            raise

    def extra_repr(self) -> str:
        proj = self.projection if isinstance(self.projection, str) else "callable"
        return (
            f"windows={self.windows!r}, groups={self.groups}, projection={proj!r}, "
            f"condense={self.condense!r}, reset_mechanism={self.reset_mechanism!r}, "
            f"backend={self.backend!r}"
        )

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # A state_dict saved from snntorch.Leaky has no theta: keep this neuron's own,
        # so a trained Leaky network loads into the same network built with ProjLeaky.
        # Only a Leaky's entries (its beta and threshold present) qualify.
        key = prefix + "theta"
        if key not in state_dict and prefix + "beta" in state_dict \
                and prefix + "threshold" in state_dict:
            state_dict[key] = self.theta.detach().clone()
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    # -- NIR export (see snntorch_ms/export.py) ---------------------------------

    @property
    def nir_exportable(self) -> bool:
        """Whether NIR export as a plain ``nir.LIF`` is faithful: True only when
        this neuron is exactly :class:`snntorch.Leaky` (no windows, or
        ``groups=1``, and ``projection="none"``)."""
        return not self.windowed and self.projection == "none"

    # -- energy accounting (see snntorch_ms/energy/counting.py) -----------------

    def spike_counts(self, spk: torch.Tensor):
        r"""How many window spikes make up each element of an output map, for the
        energy counter; None when the output is already binary.

        A ``condense="mean"`` map is the mean of the :math:`n(i, j)` window spikes
        covering each position, so it carries :math:`k = M\,n / s` spike events:

        .. math::

            k(i, j) = \frac{M(i, j)\, n(i, j)}{s}, \qquad n = \text{coverage}

        Example::

            >>> lif = ProjLeaky(0.5, threshold=0.5, windows="overlap", groups=4, condense="mean")
            >>> spk, _ = lif(torch.ones(1, 1, 4, 4))
            >>> lif.spike_counts(spk)[0, 0]
            tensor([[1., 2., 2., 1.],
                    [2., 4., 4., 2.],
                    [2., 4., 4., 2.],
                    [1., 2., 2., 1.]])

        :param spk: this neuron's output spikes
        :type spk: torch.Tensor
        :return: the counts (shape of ``spk``), or None (``condense="or"``, no
            windows, or a window stack)
        :rtype: torch.Tensor or None
        """
        if not self.windowed or self.condense != "mean" or spk.dim() != 4:
            return None
        from ..functional.windows import coverage

        n = coverage(spk.shape[-2], spk.shape[-1], self.windows, self.groups,
                     device=spk.device, dtype=spk.dtype)
        s = self._channel_view("graded_spikes_factor", self.graded_spikes_factor, spk)
        return torch.round(spk * n / s)

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
            f"stack [B, g, C, h, w], got shape {tuple(input_.shape)}. On other shapes pass "
            "windows=None, projection=\"none\" for exactly snntorch.Leaky (windows=None "
            "alone still projects the membrane carried from one time step to the next)"
        )

    def _channel_view(self, name: str, value: torch.Tensor, input_: torch.Tensor):
        """A per-channel ``[C]`` or ``[C, 1, 1]`` value as ``[C, 1, 1]``, checked
        against the input's channel dimension; scalars as they are."""
        length = _per_channel_length(value)
        if length is None:
            return value
        channels = input_.shape[-3]
        if length != channels:
            raise ValueError(
                f"{name} has shape {tuple(value.shape)}, {length} per-channel values, but "
                f"the input of shape {tuple(input_.shape)} has {channels} channels"
            )
        return value.reshape(channels, 1, 1)

    # -- the engine (snntorch_ms/functional/fused/backend.py) --------------------

    @property
    def backend(self) -> str:
        """The engine setting: ``"auto"``, ``"reference"``, ``"eager"``,
        ``"compiled"`` or ``"triton"`` (see the class's ``backend`` parameter).
        Setting it checks an explicit engine against the neuron's options."""
        return self.__dict__["_backend"]

    @backend.setter
    def backend(self, value: str) -> None:
        check_backend(value)  # the name, and the library triton needs
        problem = backend_problem(value, self._fused_supported()[1], self.windowed)
        if problem:
            raise ValueError(f"ProjLeaky(backend={value!r}): {problem}; pass "
                             "backend='auto' to let the neuron choose")
        self.__dict__["_backend"] = value

    def resolved_backend(self, device="cpu") -> str:
        r"""The engine this neuron runs for an input on ``device`` with its current
        options: ``backend`` itself when explicit, else what ``"auto"`` resolves
        to (see :func:`~snntorch_ms.functional.fused.backend.resolve`):

        .. math::

            \text{auto} \mapsto \begin{cases} \text{reference} &
            \text{exact-Leaky twin, or options not covered} \\
            \text{compiled} & \text{CUDA} \\ \text{eager} & \text{otherwise}\end{cases}

        Example::

            >>> ProjLeaky(0.5).resolved_backend("cpu")
            'eager'
            >>> ProjLeaky(0.5).resolved_backend("cuda")
            'compiled'
            >>> ProjLeaky(0.5, windows=None, projection="none").resolved_backend()
            'reference'

        :param device: a device, or its type. Defaults to ``"cpu"``
        :type device: torch.device or str, optional
        :return: ``"reference"``, ``"eager"``, ``"compiled"`` or ``"triton"``
        :rtype: str
        :raises ValueError: when the explicit ``backend`` cannot run on ``device``
            or with the options set since
        """
        return self._plan(torch.device(device).type)[0]

    def _plan(self, device_type: str):
        """``(engine, step)``: the engine resolved for ``device_type`` and the
        method that runs the time step on it, kept until the backend, an option,
        the device type or :func:`~snntorch_ms.functional.fused.configure` changes."""
        supported, option = self._fused_supported()
        key = (self.backend, device_type, supported, option, self.projection,
               settings()["version"])

        def compute():
            engine = resolve(self.backend, device_type, option, self.windowed,
                             self.nir_exportable)
            step = ProjLeaky._reference_forward if engine == "reference" \
                else ProjLeaky._fused_forward
            return engine, step

        return self._memo("plan", key, compute)

    def _memo(self, name, key, compute):
        """``compute()``, remembered under ``name`` for the last ``key`` (the options
        it depends on, so that setting ``spike_grad`` or any option later is seen):
        the per-call checks below cost about 55 µs a call otherwise (a 16x8x8 quad
        layer's step takes about 1.5 ms on one CPU thread)."""
        memo = self.__dict__.setdefault("_memos", {})
        slot = memo.get(name)
        if slot is None or slot[0] != key:
            slot = memo[name] = (key, compute())
        return slot[1]

    def _fused_support(self):
        """``(supported, first option not covered or None, recognised surrogate)``
        for this neuron's current options."""
        gsf = self.graded_spikes_factor
        key = (self.projection, self.spike_grad, self.reset_mechanism, self.condense,
               self.state_quant, self.inhibition, self.reset_delay,
               isinstance(gsf, torch.Tensor) and gsf.requires_grad)

        def compute():
            reason = fused_unsupported(
                projection=self.projection, spike_grad=self.spike_grad,
                reset_mechanism=self.reset_mechanism, condense=self.condense,
                state_quant=self.state_quant, inhibition=self.inhibition,
                reset_delay=self.reset_delay, graded_spikes_factor=gsf)
            return reason is None, reason, recognise_surrogate(self.spike_grad)

        return self._memo("fused_support", key, compute)

    def _fused_supported(self):
        """``(True, None)`` when the fused scan covers this neuron's options, else
        ``(False, name of the first option it does not cover)``."""
        return self._fused_support()[:2]

    def _surrogate_spec(self):
        """``(kind, parameter)`` of ``spike_grad`` (:func:`~snntorch_ms.functional.spec.recognise_surrogate`)."""
        return self._fused_support()[2]

    def _fused_forward(self, engine, layout, input_, lateral, beta, threshold, theta, gsf):
        """The time step through :class:`~snntorch_ms.functional.fused.FusedWindowScan`
        on ``engine``, returning the dtypes the reference path returns."""
        surrogate = self._surrogate_spec()
        if layout == "map":
            height, width = input_.shape[-2:]
            cfg = FusedConfig.for_map(height, width, self.windows, self.groups, self.projection,
                                      self.reset_mechanism, self.condense, surrogate)
            t, b, l, r = cfg.boxes[-1]
            carried = self.mem[..., t:b, l:r]
        elif layout == "stack":
            cfg = FusedConfig.for_stack(self.projection, self.reset_mechanism, surrogate)
            carried = self.mem[:, -1]
        else:
            cfg = FusedConfig.for_single(self.projection, self.reset_mechanism, surrogate)
            carried = self.mem
        spk, mem = fused_window_scan(cfg, input_, carried, lateral, beta, threshold, theta, gsf,
                                     engine)
        spk_dtype, mem_dtype = self._reference_dtypes(mem.dtype, gsf)
        return spk.to(spk_dtype), mem.to(mem_dtype)

    def _reference_dtypes(self, dtype, gsf):
        """The dtypes of the reference path's spikes and membrane when the
        arithmetic runs in ``dtype`` (snntorch.Leaky's rule): the spikes are what
        the surrogate returns (float32 for snntorch's, whatever the membrane's
        dtype), times a per-channel ``graded_spikes_factor``; the reset signal (the
        detached spikes) promotes the membrane unless ``reset_mechanism="none"``."""
        key = (self.spike_grad, dtype, self.reset_mechanism, gsf.dim() > 0 and gsf.dtype)

        def compute():
            fired = self.spike_grad(torch.zeros(1, dtype=dtype)).dtype
            mem = dtype if self.reset_mechanism == "none" else torch.promote_types(dtype, fired)
            spk = fired
            if gsf.dim() > 0:
                spk = torch.promote_types(spk, gsf.dtype)
            return spk, mem

        return self._memo("reference_dtypes", key, compute)

    # -- forward ---------------------------------------------------------------

    def forward(self, input_, mem=None, lateral=None):
        r"""One time step: the ``g`` window sub-steps, then the recomposition.

        .. math::

            (S_t, U_t) = \mathrm{recompose}\big(\mathrm{scan}_{p=1..g}
                (I_p, U_{p-1}, L_{p-1})\big), \qquad U_0 = U_{t-1}|_{\text{window } g}

        Example::

            >>> import torch
            >>> lif = ProjLeaky(0.5, threshold=0.5)
            >>> spk, mem = lif(torch.ones(1, 2, 4, 4))
            >>> spk.shape, lif.mem is mem
            (torch.Size([1, 2, 4, 4]), True)

        :param input_: the input current: a map ``[B, C, H, W]``, a window stack
            ``[B, g, C, h, w]``, or any shape (0-dim included) without windows
        :type input_: torch.Tensor
        :param mem: the membrane in the input's layout, or None for the stored
            state (an error with ``init_hidden=True``). Defaults to None
        :type mem: torch.Tensor, optional
        :param lateral: the previous layer's membrane :math:`L`, in the input's
            layout and shape, or None. Defaults to None
        :type lateral: torch.Tensor, optional
        :return: ``spk`` with ``init_hidden=True`` and ``output=False``, else
            ``(spk, mem)``; ``mem`` is also kept in ``self.mem``, a tensor of its
            own (never a view)
        :rtype: torch.Tensor or tuple(torch.Tensor, torch.Tensor)
        :raises ValueError: for an input that is neither a map nor a stack with
            windows, a lateral membrane of another shape, or a per-channel
            parameter whose length is not the input's channel count
        :raises TypeError: for ``mem`` passed while ``init_hidden=True``
        """
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
            beta = self._channel_view("beta", beta, input_)
            threshold = self._channel_view("threshold", threshold, input_)
            theta = self._channel_view("theta", theta, input_)
            gsf = self._channel_view("graded_spikes_factor", gsf, input_)

        # the plan resolved for this device type (a 0-dim input: the reference path)
        engine, step = self._plan(input_.device.type) if input_.dim() else ("reference", None)
        step = step or ProjLeaky._reference_forward
        spk, new_mem = step(self, engine, layout, input_, lateral, beta, threshold, theta, gsf)
        self.mem = new_mem

        if self.output:
            return spk, self.mem
        elif self.init_hidden:
            return spk
        else:
            return spk, self.mem

    def _reference_forward(self, engine, layout, input_, lateral, beta, threshold, theta, gsf):
        """The time step through the pure functions of :mod:`snntorch_ms.functional`
        (``engine`` is ``"reference"``)."""
        if layout == "map":
            height, width = input_.shape[-2:]
            boxes = window_boxes(height, width, self.windows, self.groups)
            t, b, l, r = boxes[-1]
            cur = cut_windows(input_, self.windows, self.groups)
            lat = cut_windows(lateral, self.windows, self.groups) if lateral is not None else None
            carried = self.mem[..., t:b, l:r]
        elif layout == "stack":
            cur, lat, carried = input_, lateral, self.mem[:, -1]

        fire = None
        if self.inhibition:
            def fire(m):
                return self.fire_inhibition(m.size(0), m)

        options = dict(
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
        if layout == "any":
            # one window: snntorch.Leaky's update on any shape, 0-dim included
            return neuron_step(input_, self.mem, **options)
        spk, new_mem = window_scan(cur, carried, lat, **options)
        if layout == "map":
            size = input_.shape[-2:]
            spk = recompose_spikes(spk, size, self.windows, self.condense, magnitude=gsf)
            new_mem = recompose_membrane(new_mem, size, self.windows)
        return spk, new_mem
