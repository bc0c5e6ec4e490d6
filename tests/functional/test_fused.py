"""The fused ProjLeaky path against the reference path.

Tolerances (float32): spikes are compared exactly, membranes at ``atol=1e-6``,
gradients of the input and lateral membrane at ``atol=1e-5, rtol=1e-5``. The
gradients of ``beta``, ``threshold`` and ``theta`` are sums over every position
and window, taken in another order than autograd takes them, with cancellation;
they are compared at ``rtol=1e-5`` and ``atol=1e-5 * sqrt(n * max(1, |g|))``
(``n`` summed elements, ``|g|`` the gradient's size), the growth of float32
rounding error in a sum of ``n`` terms.
"""

import functools
import itertools
import os
import warnings

import pytest
import snntorch as snn
import torch
from snntorch import surrogate

import snntorch_ms.functional.fused as fused_mod
from snntorch_ms import ProjLeaky
from snntorch_ms.functional import cut_windows
from snntorch_ms.functional.fused import (
    FusedConfig,
    FusedWindowScan,
    backend as fused_backend,
    configure,
    eager,
    fused_unsupported,
    pure,
    recognise_surrogate,
    surrogate_derivative,
)
from snntorch_ms.surrogate import rectangular
from snntorch_ms.utils import set_backend

SIZES = {"quad-even": ("quad", (6, 6)), "quad-odd": ("quad", (6, 5)),
         "overlap": ("overlap", (6, 5))}


ENGINES = {
    "pure": (pure.forward, pure.backward),
    # the eager engine with its in-place fast paths off: the spec's formulas only
    "eager-spec": (functools.partial(eager.forward, fast_paths=False),
                   functools.partial(eager.backward, fast_paths=False)),
}


@pytest.fixture(params=["eager", "eager-spec", "pure"])
def math_variant(request, monkeypatch):
    """Run a test on the eager engine (with and without its fast paths) and on the
    pure math that torch.compile traces, all called without compiling."""
    if request.param in ENGINES:
        fwd, bwd = ENGINES[request.param]
        monkeypatch.setattr(fused_backend, "_ENGINES", {"fwd": (fwd, fwd), "bwd": (bwd, bwd)})
    return request.param


def make_inputs(shape, layout, windows, groups, seed=0, dtype=torch.float32):
    torch.manual_seed(seed)
    x = torch.rand(*shape, dtype=dtype) * 1.6 - 0.1
    lat = torch.randn(*shape, dtype=dtype)
    if layout == "stack":
        x, lat = cut_windows(x, windows, groups), cut_windows(lat, windows, groups)
    return x, lat


def run_two_steps(neuron, x, lat, use_lateral):
    """Two time steps (the second continues from the first's membrane); a loss
    that weighs every output differently; gradients of input, lateral, params."""
    x = x.clone().requires_grad_()
    lat = lat.clone().requires_grad_()
    outs = []
    for t in range(2):
        spk, mem = neuron(x * (1.0 + 0.4 * t), lateral=lat if use_lateral else None)
        outs += [spk, mem]
    torch.manual_seed(123)
    loss = sum((o * torch.rand_like(o)).sum() * (i + 1) for i, o in enumerate(outs))
    params = [p for _, p in sorted(neuron.named_parameters())]
    grads = torch.autograd.grad(loss, [x, lat] + params, allow_unused=True)
    return outs, grads, x.numel()


def assert_same(kwargs, layout, use_lateral, shape=(2, 3, 6, 6), windows="quad", groups=4,
                engine="eager"):
    """The parity tests run the eager fused math; compiled math has its own tests."""
    x, lat = make_inputs(shape, layout, windows, groups)
    ref = ProjLeaky(backend="reference", **kwargs)
    fused = ProjLeaky(backend=engine, **kwargs)
    fused.load_state_dict(ref.state_dict())
    with warnings.catch_warnings():
        # a supported option neither falls back nor fails to compile
        warnings.filterwarnings("error", message=".*(fused path|fused scan).*")
        out_f, g_f, n = run_two_steps(fused, x, lat, use_lateral)
    out_r, g_r, _ = run_two_steps(ref, x, lat, use_lateral)
    assert sum(float(s.detach().sum()) for s in out_r[::2]) > 0, "the case must spike"
    for i, (a, b) in enumerate(zip(out_r, out_f)):
        assert a.dtype == b.dtype and a.shape == b.shape
        if i % 2 == 0:
            assert torch.equal(a, b), "spikes differ"
        else:
            torch.testing.assert_close(b, a, atol=1e-6, rtol=0)
    names = ["input", "lateral"] + [name for name, _ in sorted(ref.named_parameters())]
    for name, a, b in zip(names, g_r, g_f):
        if a is None or b is None:
            # unused on both paths (e.g. lateral with projection="none")
            assert a is None and (b is None or not b.any()), name
            continue
        if name in ("input", "lateral"):
            torch.testing.assert_close(b, a, atol=1e-5, rtol=1e-5, msg=name)
        else:
            scale = max(1.0, float(a.abs().max())) * n
            torch.testing.assert_close(b, a, atol=1e-5 * scale ** 0.5, rtol=1e-5, msg=name)


# --------------------------------------------------------------------------- #
# every built-in option, fused against reference
# --------------------------------------------------------------------------- #

LEARN = dict(learn_beta=True, learn_threshold=True, learn_theta=True)


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("layout", ["map", "stack"])
@pytest.mark.parametrize("use_lateral", [False, True])
@pytest.mark.parametrize("reset", ["subtract", "zero", "none"])
@pytest.mark.parametrize("projection", ["sincos", "nested", "mean", "none"])
def test_projection_reset_layout_lateral(projection, reset, use_lateral, layout, size,
                                         math_variant):
    windows, hw = SIZES[size]
    kwargs = dict(beta=0.7, threshold=0.8, theta=0.6, windows=windows, projection=projection,
                  reset_mechanism=reset, **LEARN)
    assert_same(kwargs, layout, use_lateral, shape=(2, 3) + hw, windows=windows)


@pytest.mark.parametrize("condense", ["or", "mean"])
@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("graded", [1.0, 0.6])
def test_condense(condense, size, graded, math_variant):
    windows, hw = SIZES[size]
    kwargs = dict(beta=0.7, threshold=0.7, windows=windows, condense=condense,
                  graded_spikes_factor=graded, **LEARN)
    assert_same(kwargs, "map", True, shape=(2, 3) + hw, windows=windows)


@pytest.mark.parametrize("windows,groups", [("quad", 2), ("overlap", 2), ("quad", 1)])
def test_two_windows_and_one(windows, groups, math_variant):
    kwargs = dict(beta=0.7, threshold=0.8, windows=windows, groups=groups, **LEARN)
    assert_same(kwargs, "map", True, shape=(2, 3, 5, 7), windows=windows, groups=groups)


@pytest.mark.parametrize("projection", ["none", "sincos"])
def test_no_windows_any_shape(projection, math_variant):
    kwargs = dict(beta=torch.tensor([0.5, 0.9, 0.7]), threshold=0.8, windows=None,
                  projection=projection, **LEARN)
    assert_same(kwargs, "map", False, shape=(4, 5, 3))


def test_no_windows_fused_state_is_its_own_tensor():
    """The single-window layout returns the membrane itself (no stack, no copy)."""
    lif = ProjLeaky(0.5, windows=None, backend="eager", init_hidden=True)
    lif(torch.rand(3, 4))
    assert lif.mem._base is None
    lif.mem.detach_()


SURROGATES = {
    "default": None,
    "atan": surrogate.atan(alpha=3.0),
    "fast_sigmoid": surrogate.fast_sigmoid(slope=10),
    "sigmoid": surrogate.sigmoid(slope=5),
    "triangular": surrogate.triangular(threshold=0.5),
    "straight_through_estimator": surrogate.straight_through_estimator(),
    "rectangular": rectangular(0.8),
}

#: Every surrogate factory snntorch.surrogate offers, and what the fused path makes
#: of it: recognised with its parameter, or not (then the reference path runs).
SNNTORCH_SURROGATES = {
    "atan": (lambda: surrogate.atan(alpha=2.5), ("atan", 2.5)),
    "fast_sigmoid": (lambda: surrogate.fast_sigmoid(slope=12), ("fast_sigmoid", 12.0)),
    "sigmoid": (lambda: surrogate.sigmoid(slope=4), ("sigmoid", 4.0)),
    "triangular": (lambda: surrogate.triangular(threshold=0.3), ("triangular", 0.3)),
    "straight_through_estimator": (surrogate.straight_through_estimator,
                                   ("straight_through_estimator", 0.0)),
    "spike_rate_escape": (surrogate.spike_rate_escape, None),
    "heaviside": (surrogate.heaviside, None),
    "SFS": (surrogate.SFS, None),
    "SSO": (surrogate.SSO, None),
    "custom_surrogate": (lambda: surrogate.custom_surrogate(
        lambda input_, grad_input, spikes: grad_input), None),
}


def test_every_snntorch_surrogate_factory_is_classified():
    """A new factory in snntorch shows up here first (the fused path then needs
    its derivative in the spec, or states that it falls back)."""
    factories = {name for name in dir(surrogate)
                 if name[0].islower() and callable(getattr(surrogate, name))
                 and not isinstance(getattr(surrogate, name), type)} - {"torch", "math"}
    assert {"atan", "fast_sigmoid", "sigmoid", "triangular"} <= factories
    known = set(SNNTORCH_SURROGATES)
    assert factories - known <= {"custom_surrogate", "mse_count_loss"} | known, \
        f"unclassified snntorch surrogates: {sorted(factories - known)}"


@pytest.mark.parametrize("name", list(SNNTORCH_SURROGATES))
def test_recognise_every_snntorch_surrogate(name):
    factory, expected = SNNTORCH_SURROGATES[name]
    fn = factory()
    assert recognise_surrogate(fn) == expected
    if expected is None:
        return
    # the spec's derivative is the surrogate's own backward, at many points
    x = torch.linspace(-2.5, 2.5, 101, requires_grad=True)
    (grad,) = torch.autograd.grad(fn(x).sum(), x)
    torch.testing.assert_close(surrogate_derivative(x.detach(), expected), grad, msg=name)


@pytest.mark.parametrize("name", list(SURROGATES))
@pytest.mark.parametrize("layout", ["map", "stack"])
def test_surrogates(name, layout, math_variant):
    kwargs = dict(beta=0.6, threshold=0.8, spike_grad=SURROGATES[name], **LEARN)
    assert_same(kwargs, layout, True)


def test_surrogate_disable():
    assert_same(dict(beta=0.6, threshold=0.8, surrogate_disable=True, learn_beta=True), "map", True)


@pytest.mark.parametrize("learn", [False, True])
@pytest.mark.parametrize("layout", ["map", "stack"])
def test_per_channel_parameters(learn, layout, math_variant):
    kwargs = dict(beta=torch.tensor([0.6, 1.3, 0.2]), threshold=torch.tensor([0.8, 0.5, 1.0]),
                  theta=torch.tensor([0.5, 0.8, 0.3]),
                  graded_spikes_factor=torch.tensor([1.0, 0.5, 2.0]),
                  learn_beta=learn, learn_threshold=learn, learn_theta=learn)
    assert_same(kwargs, layout, True)


def test_scalar_fixed_parameters_and_init_hidden():
    kwargs = dict(beta=0.6, threshold=0.8, init_hidden=True, output=True)
    assert_same(kwargs, "map", True)


def test_init_hidden_returns_spikes_only():
    x = torch.rand(2, 3, 4, 4)
    ref = ProjLeaky(0.5, init_hidden=True, backend="reference")
    fused = ProjLeaky(0.5, init_hidden=True, backend="eager")
    assert torch.equal(ref(x), fused(x))
    assert torch.allclose(ref.mem, fused.mem, atol=1e-6)


def test_surrogate_derivatives_match_the_surrogates():
    x = torch.linspace(-2, 2, 41, requires_grad=True)
    for name, fn in SURROGATES.items():
        if fn is None:
            continue
        spec = recognise_surrogate(fn)
        (grad,) = torch.autograd.grad(fn(x).sum(), x)
        torch.testing.assert_close(surrogate_derivative(x.detach(), spec), grad, msg=name)


def test_recognise_surrogate_reads_the_parameter():
    assert recognise_surrogate(surrogate.atan(alpha=3.5)) == ("atan", 3.5)
    assert recognise_surrogate(surrogate.fast_sigmoid(slope=7)) == ("fast_sigmoid", 7.0)
    assert recognise_surrogate(rectangular(0.25)) == ("rectangular", 0.25)
    assert recognise_surrogate(surrogate.spike_rate_escape()) is None
    assert recognise_surrogate(lambda x: x) is None


# --------------------------------------------------------------------------- #
# fallback and switching
# --------------------------------------------------------------------------- #

UNSUPPORTED = {
    "projection (callable)": dict(projection=lambda a, b: a if b is None else 0.5 * a + b),
    "spike_grad": dict(spike_grad=surrogate.custom_surrogate(
        lambda input_, grad_input, spikes: grad_input * torch.exp(-input_.abs()))),
    "state_quant": dict(state_quant=lambda m: torch.round(m * 8) / 8),
    "inhibition": dict(inhibition=True, windows=None),
    "reset_delay=False": dict(reset_delay=False),
    "learn_graded_spikes_factor": dict(learn_graded_spikes_factor=True),
}


@pytest.mark.parametrize("option", list(UNSUPPORTED))
def test_unsupported_option_refuses_a_fused_engine_and_auto_runs_the_reference_path(option):
    kwargs = dict(beta=0.6, threshold=0.8, **UNSUPPORTED[option])
    # snntorch's inhibition only works on dense [B, N] input
    shape = (2, 6) if option == "inhibition" else (2, 3, 6, 6)
    x, lat = make_inputs(shape, "map", "quad", 4)
    for engine in ("eager", "compiled"):
        with pytest.raises(ValueError, match="do not cover " + option.split(" ")[0].split("=")[0]):
            ProjLeaky(backend=engine, **kwargs)
    torch.manual_seed(1)
    ref = ProjLeaky(backend="reference", **kwargs)
    auto = ProjLeaky(**kwargs)
    auto.load_state_dict(ref.state_dict())
    assert auto.resolved_backend("cpu") == auto.resolved_backend("cuda") == "reference"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "auto" chooses silently
        out_f, g_f, _ = run_two_steps(auto, x, lat, option != "inhibition")
    out_r, g_r, _ = run_two_steps(ref, x, lat, option != "inhibition")
    for a, b in zip(out_r + list(g_r), out_f + list(g_f)):
        assert (a is None and b is None) or torch.equal(a, b)


def test_fused_unsupported_names_the_option():
    atan = surrogate.atan()
    assert fused_unsupported(projection="sincos", spike_grad=atan) is None
    assert fused_unsupported(projection=lambda a, b: a, spike_grad=atan) == "projection (callable)"
    assert fused_unsupported(projection="mean", spike_grad=atan, state_quant=True) == "state_quant"
    assert (fused_unsupported(projection="mean", spike_grad=atan, reset_delay=False)
            == "reset_delay=False")


def test_default_is_the_fused_path_where_supported():
    """backend="auto" (the default): eager on the CPU, compiled on CUDA where the
    options allow, silently the reference path elsewhere, and the exact-Leaky twin
    always on the reference path (its bit-for-bit contract)."""
    assert ProjLeaky(0.5).backend == "auto"
    assert ProjLeaky(0.5).resolved_backend("cpu") == "eager"
    assert ProjLeaky(0.5).resolved_backend(torch.device("cuda", 1)) == "compiled"
    assert ProjLeaky(0.5, windows=None).resolved_backend() == "eager"
    twin = ProjLeaky(0.5, windows=None, projection="none")
    assert twin.resolved_backend("cpu") == twin.resolved_backend("cuda") == "reference"
    callable_proj = ProjLeaky(0.5, projection=lambda a, b: a)
    assert callable_proj.resolved_backend() == "reference"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        callable_proj(torch.rand(1, 2, 4, 4))  # no warning on auto


def test_backend_is_one_setting_checked_when_set():
    for engine in ("reference", "eager", "compiled"):
        lif = ProjLeaky(0.5, backend=engine)
        assert lif.backend == engine and lif.resolved_backend("cpu") == engine
    with pytest.raises(ValueError, match="unknown backend='gpu'"):
        ProjLeaky(0.5, backend="gpu")
    with pytest.raises(ValueError, match="unknown backend='fused'.*since 0.4.0"):
        ProjLeaky(0.5, backend="fused")
    with pytest.raises(TypeError, match="fused"):
        ProjLeaky(0.5, fused=True)  # removed in 0.4.0
    n = len(ProjLeaky.instances)
    with pytest.raises(ValueError, match="Triton kernels take a map or a window stack"):
        ProjLeaky(0.5, windows=None, backend="triton")
    assert len(ProjLeaky.instances) == n, "a refused neuron leaves snntorch's list"
    lif = ProjLeaky(0.5)
    lif.backend = "reference"
    assert lif.resolved_backend("cuda") == "reference"
    with pytest.raises(ValueError, match="unknown backend"):
        lif.backend = "fast"
    assert lif.backend == "reference"
    lif.backend = "eager"
    # an option set later that the engine cannot use fails at the next call
    lif.state_quant = lambda m: m
    with pytest.raises(ValueError, match="backend='eager' cannot run this neuron.*state_quant"):
        lif(torch.rand(1, 2, 4, 4))
    lif.backend = "auto"
    assert lif.resolved_backend() == "reference"


def test_triton_is_checked_when_set_and_on_the_device(monkeypatch):
    monkeypatch.setattr(fused_backend, "triton_available", lambda: False)
    with pytest.raises(ImportError, match="needs the package triton"):
        ProjLeaky(0.5, backend="triton")
    with pytest.raises(ImportError, match="needs the package triton"):
        configure(backend="triton")
    monkeypatch.setattr(fused_backend, "triton_available", lambda: True)
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    lif = ProjLeaky(0.5, backend="triton")
    assert lif.resolved_backend("cuda") == "triton"
    with pytest.raises(ValueError, match="run on CUDA tensors"):
        lif(torch.rand(1, 2, 4, 4))


def test_auto_follows_configure_and_the_device():
    lif = ProjLeaky(0.5)
    x = torch.rand(1, 2, 4, 4)
    lif(x)
    assert lif._plan("cpu")[0] == "eager"
    old = configure(backend="reference")
    try:
        assert lif.resolved_backend("cpu") == lif.resolved_backend("cuda") == "reference"
        assert ProjLeaky(0.5, backend="eager").resolved_backend() == "eager"  # explicit wins
        configure(backend="compiled")
        assert lif.resolved_backend("cpu") == "compiled"
        configure(backend="triton" if fused_mod.triton_available() else "compiled")
        # a default the neuron cannot use: the rule of "auto"
        assert ProjLeaky(0.5, windows=None).resolved_backend("cuda") == "compiled"
        assert ProjLeaky(0.5, projection=lambda a, b: a).resolved_backend() == "reference"
    finally:
        configure(**old)
    assert lif.resolved_backend("cpu") == "eager"
    with pytest.raises(ValueError, match="unknown backend"):
        configure(backend="fused")


def test_environment_variable_is_read_once_at_import():
    import subprocess
    import sys

    code = ("import snntorch_ms.functional.fused as f, snntorch_ms as s; "
            "print(f.settings()['backend'], s.ProjLeaky(0.5).resolved_backend())")
    env = dict(os.environ, SNNTORCH_MS_BACKEND="reference")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, timeout=300)
    assert out.stdout.split() == ["reference", "reference"], out.stderr[-2000:]
    env["SNNTORCH_MS_BACKEND"] = "fused"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode != 0 and "unknown SNNTORCH_MS_BACKEND='fused'" in out.stderr


def test_fused_default_matches_the_reference_path():
    """What a user gets without a flag equals the reference path."""
    x, lat = make_inputs((2, 3, 6, 6), "map", "quad", 4)
    default, ref = ProjLeaky(0.7, threshold=0.8), ProjLeaky(0.7, threshold=0.8,
                                                            backend="reference")
    out_d, g_d, _ = run_two_steps(default, x, lat, True)
    out_r, g_r, _ = run_two_steps(ref, x, lat, True)
    for a, b in zip(out_r[::2], out_d[::2]):
        assert torch.equal(a, b)
    torch.testing.assert_close(g_d[0], g_r[0], atol=1e-5, rtol=1e-5)


def test_set_backend_sets_every_projleaky():
    net = torch.nn.Sequential(
        torch.nn.Conv2d(2, 3, 3, padding=1), ProjLeaky(0.5, init_hidden=True),
        torch.nn.Sequential(torch.nn.Conv2d(3, 3, 1), ProjLeaky(0.5, init_hidden=True)),
        snn.Leaky(0.5, init_hidden=True),
    )
    assert set_backend(net, "reference") is net
    assert [m.backend for m in net.modules() if isinstance(m, ProjLeaky)] == ["reference"] * 2
    assert not hasattr(net[3], "backend")
    x = torch.rand(2, 2, 6, 6)
    out_r = net(x)
    set_backend(net, "eager")
    assert [m.resolved_backend() for m in net.modules() if isinstance(m, ProjLeaky)] \
        == ["eager"] * 2
    for m in net.modules():
        if hasattr(m, "reset_mem"):
            m.reset_mem()
    assert torch.equal(out_r, net(x))
    # all or nothing: a neuron that refuses leaves every neuron as it was
    net.append(ProjLeaky(0.5, init_hidden=True, state_quant=lambda m: m))
    with pytest.raises(ValueError, match="state_quant"):
        set_backend(net, "compiled")
    assert [m.backend for m in net.modules() if isinstance(m, ProjLeaky)] \
        == ["eager", "eager", "auto"]
    # with a fallback, the neuron that refuses gets it and the others the backend
    set_backend(net, "compiled", fallback="reference")
    assert [m.backend for m in net.modules() if isinstance(m, ProjLeaky)] \
        == ["compiled", "compiled", "reference"]


def test_set_backend_falls_back_where_triton_cannot_run():
    pytest.importorskip("triton")
    from snntorch_ms.models import build_model

    net = build_model("resnet19", "proj", in_channels=3, image_size=32)
    with pytest.raises(ValueError, match="Triton kernels take a map or a window stack"):
        set_backend(net, "triton")  # the classifier's neuron has no windows
    set_backend(net, "triton", fallback="auto")
    by_windows = {(m.windows is not None and m.groups > 1, m.backend)
                  for m in net.modules() if isinstance(m, ProjLeaky)}
    assert by_windows == {(True, "triton"), (False, "auto")}


def record_calls(monkeypatch, module, name):
    """Wrap ``module.name`` for this test; the list its calls' arguments land in."""
    calls, real = [], getattr(module, name)

    def counted(*args):
        calls.append(args)
        return real(*args)

    monkeypatch.setattr(module, name, counted)
    return calls


@pytest.mark.parametrize("reset,learn_threshold,needed", [
    ("subtract", False, False), ("none", True, False),
    ("subtract", True, True), ("zero", False, True),
])
def test_eager_backward_skips_the_reset_partials_when_they_are_constants(
        reset, learn_threshold, needed, monkeypatch):
    # dU/d(beta C) = 1 and dU/dthreshold unused for a subtract reset with a fixed
    # threshold: computing them cost four kernels a window (12 % of a ConvNet step's
    # kernels on the eager fused math); they are computed exactly where they are used
    calls = record_calls(monkeypatch, eager.spec, "membrane_partials")
    kwargs = dict(beta=0.7, threshold=0.8, windows="quad", reset_mechanism=reset,
                  learn_threshold=learn_threshold)
    assert_same(kwargs, "map", use_lateral=False)
    assert bool(calls) == needed


@pytest.mark.parametrize("projection,use_lateral,learn,in_place", [
    ("sincos", True, False, True), ("sincos", False, False, True),
    ("sincos", True, True, False), ("nested", True, False, False),
])
def test_eager_backward_takes_the_in_place_projection_path(projection, use_lateral, learn,
                                                           in_place, monkeypatch):
    # the sine projection with fixed beta / theta, with or without a lateral membrane
    # (the paper's mixer), is differentiated in place: the general partials allocate
    # about a quarter more kernels in a mixer's step
    calls = record_calls(monkeypatch, eager.spec, "project_partials")
    kwargs = dict(beta=0.7, threshold=0.8, theta=0.6, windows="quad", projection=projection,
                  learn_beta=learn, learn_theta=learn)
    assert_same(kwargs, "map", use_lateral=use_lateral)
    assert (not calls) == in_place


# --------------------------------------------------------------------------- #
# gradcheck, compile, CUDA
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("projection,reset,windows", [
    ("sincos", "subtract", "quad"), ("nested", "zero", "overlap"), ("mean", "none", "quad"),
])
def test_gradcheck_membrane_path_double(projection, reset, windows):
    torch.manual_seed(0)
    height, width = 4, 5
    cfg = FusedConfig.for_map(height, width, windows, 4, projection, reset, "or", ("atan", 2.0))
    t, b, l, r = cfg.boxes[-1]
    dd = dict(dtype=torch.float64, requires_grad=True)
    x = torch.rand(2, 3, height, width, **dd)
    carried = (torch.rand(2, 3, b - t, r - l, dtype=torch.float64) * 1.5).requires_grad_()
    lat = torch.randn(2, 3, height, width, **dd)
    beta = torch.tensor([0.6, 0.9, 0.4], dtype=torch.float64).view(3, 1, 1).requires_grad_()
    thr = torch.tensor(0.7, **dd)
    theta = torch.tensor(0.6, **dd)
    gsf = torch.tensor(1.0, dtype=torch.float64)

    def membrane(x, carried, lat, beta, thr, theta):
        return FusedWindowScan.apply(cfg, x, carried, lat, beta, thr, theta, gsf)[1]

    assert torch.autograd.gradcheck(membrane, (x, carried, lat, beta, thr, theta), eps=1e-6,
                                    atol=1e-6)


def test_whole_module_compiles_with_fused_path():
    kwargs = dict(beta=0.6, threshold=0.8, windows="overlap", **LEARN)
    x, lat = make_inputs((2, 3, 6, 5), "map", "overlap", 4)
    ref = ProjLeaky(backend="reference", **kwargs)
    fused = ProjLeaky(backend="eager", **kwargs)
    compiled = torch.compile(fused, backend="aot_eager", fullgraph=True)
    out_r, g_r, _ = run_two_steps(ref, x, lat, True)
    out_c, g_c, _ = run_two_steps(compiled, x, lat, True)
    for a, b in zip(out_r + list(g_r), out_c + list(g_c)):
        torch.testing.assert_close(b, a, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("backend", ["aot_eager", "inductor"])
def test_compiled_inner_math(backend):
    """The compiled functional math (two graphs; a cold inductor compile of both
    takes about 25 s on a 2-core machine)."""
    old = configure(compile_backend=backend)
    try:
        assert_same(dict(beta=0.7, threshold=0.8, **LEARN), "map", True, engine="compiled")
    finally:
        configure(**old)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device in this session")
@pytest.mark.parametrize("backend", ["eager", "compiled", "triton"])
@pytest.mark.parametrize("windows", ["quad", "overlap"])
def test_cuda_matches_cpu_reference(windows, backend):
    if backend == "triton" and not fused_mod.triton_available():
        pytest.skip("triton not installed")
    kwargs = dict(beta=0.7, threshold=0.8, windows=windows, **LEARN)
    x, lat = make_inputs((4, 8, 10, 9), "map", windows, 4)
    ref = ProjLeaky(backend="reference", **kwargs)
    fused = ProjLeaky(backend=backend, **kwargs).cuda()
    assert fused.resolved_backend("cuda") == backend
    out_r, g_r, _ = run_two_steps(ref, x, lat, True)
    out_f, g_f, _ = run_two_steps(fused, x.cuda(), lat.cuda(), True)
    for a, b in zip(out_r + list(g_r), out_f + list(g_f)):
        torch.testing.assert_close(b.cpu(), a, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("condense", ["or", "mean"])
def test_bfloat16_close_to_float32(condense):
    kwargs = dict(beta=0.7, threshold=0.8, condense=condense, windows="overlap",
                  backend="eager")
    x, lat = make_inputs((2, 3, 6, 5), "map", "overlap", 4)
    ref, fused = ProjLeaky(**kwargs), ProjLeaky(**kwargs).bfloat16()
    spk, mem = ref(x, lateral=lat)
    spk_b, mem_b = fused(x.bfloat16(), lateral=lat.bfloat16())
    # a bf16 rounding may flip a spike (and its reset) sitting at the threshold: allow a few
    assert ((mem_b.float() - mem).abs() > 0.05).float().mean() < 0.05
    assert (spk_b.float() != spk).float().mean() < 0.05


SURROGATE_DTYPES = {"atan": surrogate.atan(), "rectangular": rectangular(1.0)}


#: (input dtype, dtype of the neuron and its kept membrane)
DTYPE_CASES = [(torch.bfloat16, torch.bfloat16), (torch.float64, torch.float64),
               (torch.float32, torch.float64), (torch.bfloat16, torch.float32)]


@pytest.mark.parametrize("dtypes", DTYPE_CASES, ids=lambda d: f"{d[0]}-{d[1]}".replace("torch.", ""))
@pytest.mark.parametrize("name", list(SURROGATE_DTYPES))
@pytest.mark.parametrize("reset", ["subtract", "zero", "none"])
@pytest.mark.parametrize("windows", ["quad", "overlap", None])
def test_output_dtype_does_not_depend_on_the_path(windows, reset, name, dtypes):
    """The dtypes snntorch.Leaky's rule gives (snntorch's surrogates return float32
    spikes whatever the membrane's dtype, and the reset carries them into the
    membrane), on both paths and over two time steps, for bf16 and float64 and
    for an input of another dtype than the kept membrane."""
    x_dtype, state_dtype = dtypes
    kwargs = dict(beta=0.7, threshold=0.8, windows=windows, reset_mechanism=reset,
                  spike_grad=SURROGATE_DTYPES[name])
    x = (torch.rand(2, 3, 6, 5) * 1.6).to(x_dtype)
    ref = ProjLeaky(backend="reference", **kwargs).to(state_dtype)
    fused = ProjLeaky(backend="eager", **kwargs).to(state_dtype)
    ref.mem = torch.zeros(x.shape, dtype=state_dtype)
    fused.mem = torch.zeros(x.shape, dtype=state_dtype)
    for step in range(2):
        spk_r, mem_r = ref(x)
        spk_f, mem_f = fused(x)
        assert (spk_f.dtype, mem_f.dtype) == (spk_r.dtype, mem_r.dtype), step
        # bf16 rounding may flip a spike (and its reset) at the threshold: allow a few
        assert ((mem_f.float() - mem_r.float()).abs() > 0.05).float().mean() < 0.05
    if windows is None and name == "atan":
        leaky = snn.Leaky(0.7, threshold=0.8, reset_mechanism=reset).to(state_dtype)
        spk_l, mem_l = leaky(x, torch.zeros(x.shape, dtype=state_dtype))
        spk_l, mem_l = leaky(x, mem_l)
        assert (spk_l.dtype, mem_l.dtype) == (spk_r.dtype, mem_r.dtype)


def test_config_partition():
    opts = ("sincos", "subtract", "or", ("atan", 2.0))
    assert FusedConfig.for_map(4, 4, "quad", 4, *opts).partition
    assert not FusedConfig.for_map(5, 4, "quad", 4, *opts).partition
    assert not FusedConfig.for_map(4, 4, "overlap", 2, *opts).partition
    assert list(itertools.chain(*FusedConfig.for_stack("none", "zero", ("atan", 2.0)).boxes)) == []


TRITON_CHECK = r"""
import torch
from snntorch import surrogate
from snntorch_ms import ProjLeaky
from snntorch_ms.functional import cut_windows

def run(kw, layout, triton):
    torch.manual_seed(0)
    x, lat = torch.rand(2, 3, 6, 5) * 1.5, torch.randn(2, 3, 6, 5)
    if layout == "stack":
        x, lat = cut_windows(x, kw["windows"], 4), cut_windows(lat, kw["windows"], 4)
    x.requires_grad_(); lat.requires_grad_()
    n = ProjLeaky(backend="triton" if triton else "eager", **kw)
    assert n.resolved_backend("cpu") == ("triton" if triton else "eager")
    outs = []
    for t in range(2):
        outs += list(n(x * (1 + 0.3 * t), lateral=lat))
    torch.manual_seed(1)
    loss = sum((o * torch.rand_like(o)).sum() * (i + 1) for i, o in enumerate(outs))
    params = [x, lat] + [p for _, p in sorted(n.named_parameters())]
    return outs + list(torch.autograd.grad(loss, params, allow_unused=True))

cases = [("sincos", "subtract", "or", "map", "quad"), ("nested", "zero", "mean", "map", "overlap"),
         ("mean", "none", "or", "stack", "quad"), ("sincos", "zero", "mean", "map", "overlap"),
         ("none", "subtract", "or", "map", "overlap")]
for proj, reset, condense, layout, windows in cases:
    kw = dict(beta=torch.tensor([0.6, 0.9, 0.3]), threshold=0.8, projection=proj,
              reset_mechanism=reset, condense=condense, windows=windows, learn_beta=True,
              learn_threshold=True, learn_theta=True, spike_grad=surrogate.atan())
    for a, b in zip(run(kw, layout, False), run(kw, layout, True)):
        assert (a is None) == (b is None), (proj, reset, layout)
        if a is not None:
            torch.testing.assert_close(b, a, rtol=1e-4, atol=1e-4, msg=str((proj, reset, layout)))
print("ok")
"""


@pytest.mark.skipif(not fused_mod.triton_available(), reason="triton not installed")
def test_triton_kernels_in_the_interpreter():
    """The Triton kernels against the eager fused math, on the CPU with
    TRITON_INTERPRET=1 (a fresh process: the variable acts when the kernels are
    defined). Float32 in registers: tolerance 1e-4."""
    import subprocess
    import sys
    from pathlib import Path

    env = dict(os.environ, TRITON_INTERPRET="1")
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run([sys.executable, "-W", "ignore", "-c", TRITON_CHECK], env=env,
                          cwd=root, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and "ok" in proc.stdout, proc.stderr[-3000:]
