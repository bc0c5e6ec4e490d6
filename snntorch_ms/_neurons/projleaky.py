"""ProjLeaky: a leaky integrate-and-fire neuron that runs its receptive-field
windows as sub-steps of one time step, carrying a projected membrane.

Its parts: the option checks (:mod:`._options`), the engines and the plan that
picks one (:mod:`._engines`), the NIR guard (:mod:`._nir`); here the neuron itself,
its state, layouts, and the work it reports to the energy counter."""

from __future__ import annotations

import torch
from snntorch import Leaky

from ..functional.projection import projection_work
from ..functional.windows import coverage
from ._engines import _EngineMixin
from ._instances import forget
from ._nir import nir_trace_guard
from ._options import CONDENSE, OWN_KEYWORDS, check_options, per_channel_length  # noqa: F401

__all__ = ["ProjLeaky"]


class ProjLeaky(Leaky, _EngineMixin):
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
        windowed, project, beta, threshold, theta, graded_spikes_factor = check_options(
            beta, threshold, theta, graded_spikes_factor, reset_mechanism=reset_mechanism,
            windows=windows, groups=groups, projection=projection, condense=condense,
            inhibition=inhibition, backend=backend)
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

    # -- the work it reports to the energy counter (snntorch_ms/energy/counting.py) --

    #: The kind the energy counter files this neuron under (a spiking neuron whose
    #: elementwise work :meth:`elementwise_work` reports).
    energy_kind = "projleaky"

    def elementwise_work(self, input_: torch.Tensor, lateral=None) -> dict:
        r"""The neuron-internal work of one call on ``input_``, for the energy
        counter: membrane updates and the projection's operations.

        .. math::

            n_{\rm updates} = \begin{cases}
            B\, C \sum_{i,j} n(i, j) & \text{with windows, on a map} \\
            |\text{input}| & \text{otherwise}
            \end{cases}

        with :math:`n(i, j)` the number of windows covering position :math:`(i, j)`
        (:func:`~snntorch_ms.functional.coverage`): one membrane update per window
        sub-step and position, each evaluating the projection
        (:func:`~snntorch_ms.functional.projection_work`; with ``lateral``, windows
        :math:`p \ge 2` evaluate it with a lateral membrane). A window stack
        ``[B, g, C, h, w]`` is :math:`g` sub-steps already cut; without windows
        there is one update per element and no lateral membrane is used.

        Example::

            >>> lif = ProjLeaky(0.5, windows="overlap", groups=4)
            >>> x = torch.zeros(2, 3, 4, 4)
            >>> w = lif.elementwise_work(x, lateral=torch.zeros_like(x))
            >>> w["updates"], w["sines"], w["cosines"], w["projection"]
            (216, 216, 162, 'sincos')

        :param input_: the call's input
        :type input_: torch.Tensor
        :param lateral: the call's lateral membrane, or None. Defaults to None
        :type lateral: torch.Tensor, optional
        :return: ``updates``, ``sines``, ``cosines``, ``proj_mults``, ``proj_adds``
            (counts) and ``projection`` (its name, or ``"callable"``)
        :rtype: dict
        """
        if not self.windowed:  # one update per element, no lateral membrane is used
            updates, with_lateral = int(input_.numel()), 0
        else:
            groups = int(self.groups)
            if input_.dim() == 4:
                b, c, h, w = input_.shape
                per_map = int(coverage(int(h), int(w), self.windows, groups).sum())
                updates = int(b) * int(c) * per_map
            else:
                updates = int(input_.numel())
            with_lateral = updates // groups * (groups - 1) if lateral is not None else 0
        name = self.projection if isinstance(self.projection, str) else "callable"
        return dict(updates=updates, projection=name,
                    **projection_work(self.projection, updates, with_lateral))

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
        length = per_channel_length(value)
        if length is None:
            return value
        channels = input_.shape[-3]
        if length != channels:
            raise ValueError(
                f"{name} has shape {tuple(value.shape)}, {length} per-channel values, but "
                f"the input of shape {tuple(input_.shape)} has {channels} channels"
            )
        return value.reshape(channels, 1, 1)

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
