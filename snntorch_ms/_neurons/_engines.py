"""The engines that run a :class:`~snntorch_ms.ProjLeaky` time step, and the plan
that picks one: the neuron's ``backend`` setting, resolved per device type
(:mod:`snntorch_ms.functional.fused.backend`) and kept until an option changes; the
reference path over the pure functions of :mod:`snntorch_ms.functional`, and the
fused autograd function of :mod:`snntorch_ms.functional.fused`."""

from __future__ import annotations

import torch

from ..functional.fused import FusedConfig, fused_unsupported, fused_window_scan
from ..functional.fused.backend import backend_problem, check_backend, resolve, settings
from ..functional.spec import recognise_surrogate
from ..functional.update import neuron_step, window_scan
from ..functional.windows import cut_windows, recompose_membrane, recompose_spikes, window_boxes

__all__: list = []  # a part of ProjLeaky: reached through the neuron


class _EngineMixin:
    """ProjLeaky's engine setting (``backend``), the plan it resolves to, and the
    two ways of running the time step (the reference path and the fused engines).
    Mixed into :class:`~snntorch_ms.ProjLeaky`, whose state (``mem``, the options)
    it reads."""

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

            >>> from snntorch_ms import ProjLeaky
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
            step = _EngineMixin._reference_forward if engine == "reference" \
                else _EngineMixin._fused_forward
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
