"""ProjLeaky: exact equivalence with snntorch.Leaky, hand-computed sub-steps,
learnable parameters, state handling and errors."""

import math

import pytest
import snntorch as snn
import torch
from snntorch import surrogate

from snntorch_ms import ProjLeaky
from snntorch_ms.functional import cut_windows, recompose_membrane, recompose_spikes
from snntorch_ms.surrogate import rectangular

RESETS = ["subtract", "zero", "none"]


def run_steps(neuron, inputs, init_hidden):
    """Run a neuron over a list of inputs; return every spike and membrane."""
    outs = []
    for x in inputs:
        if init_hidden:
            spk = neuron(x)
            outs += [spk, neuron.mem]
        else:
            spk, mem = neuron(x)
            outs += [spk, mem]
    return outs


# --------------------------------------------------------------------------- #
# the anchor: windows=None (or groups=1) + projection="none" is snntorch.Leaky
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("reset", RESETS)
@pytest.mark.parametrize("init_hidden", [False, True])
@pytest.mark.parametrize("no_windows", [dict(windows=None), dict(windows="quad", groups=1)])
@pytest.mark.parametrize("shape", [(6, 5), (3, 2, 4, 4)])
def test_equals_leaky_exactly(reset, init_hidden, no_windows, shape):
    torch.manual_seed(0)
    kw = dict(beta=0.8, threshold=0.6, reset_mechanism=reset, init_hidden=init_hidden,
              learn_beta=True, learn_threshold=True)
    leaky = snn.Leaky(**kw)
    proj = ProjLeaky(projection="none", **no_windows, **kw)
    x = torch.randn(*shape, requires_grad=True)
    outs_l = run_steps(leaky, [x * (0.5 + t) for t in range(5)], init_hidden)
    outs_p = run_steps(proj, [x * (0.5 + t) for t in range(5)], init_hidden)
    for a, b in zip(outs_l, outs_p):
        assert torch.equal(a, b)
    assert sum(o.sum() for o in outs_l[::2]) > 0, "the case must spike"
    weights = [float(i + 1) for i in range(len(outs_l))]
    loss_l = sum(w * o.sum() for w, o in zip(weights, outs_l))
    loss_p = sum(w * o.sum() for w, o in zip(weights, outs_p))
    grads_l = torch.autograd.grad(loss_l, [x, leaky.beta, leaky.threshold])
    grads_p = torch.autograd.grad(loss_p, [x, proj.beta, proj.threshold])
    for a, b in zip(grads_l, grads_p):
        assert torch.equal(a, b)


SURROGATES = {
    "atan": surrogate.atan,
    "fast_sigmoid": surrogate.fast_sigmoid,
    "sigmoid": surrogate.sigmoid,
    "triangular": surrogate.triangular,
    "straight_through_estimator": surrogate.straight_through_estimator,
    "spike_rate_escape": surrogate.spike_rate_escape,
    "SFS": surrogate.SFS,
    "SSO": surrogate.SSO,
    "heaviside": surrogate.heaviside,
    "custom": lambda: surrogate.custom_surrogate(
        lambda input_, grad_input, spikes: grad_input * torch.exp(-input_.abs())),
    "rectangular": rectangular,
}


@pytest.mark.parametrize("name", list(SURROGATES))
def test_every_surrogate_works(name):
    x = torch.randn(2, 3, 6, 6, requires_grad=True)
    torch.manual_seed(1)
    leaky = snn.Leaky(beta=0.5, spike_grad=SURROGATES[name]())
    plain = ProjLeaky(beta=0.5, spike_grad=SURROGATES[name](), windows=None, projection="none")
    torch.manual_seed(2)
    spk_l, mem_l = leaky(x)
    g_l = torch.autograd.grad((spk_l * torch.arange(6.0)).sum() + mem_l.sum(), x)[0]
    torch.manual_seed(2)
    spk_p, mem_p = plain(x)
    g_p = torch.autograd.grad((spk_p * torch.arange(6.0)).sum() + mem_p.sum(), x)[0]
    assert torch.equal(spk_l, spk_p) and torch.equal(mem_l, mem_p)
    # snntorch's sigmoid surrogate overflows to nan far from threshold: same nans, same place
    torch.testing.assert_close(g_l, g_p, rtol=0, atol=0, equal_nan=True)
    windowed = ProjLeaky(beta=0.5, threshold=0.5, spike_grad=SURROGATES[name]())
    spk, mem = windowed(x)
    spk.sum().backward()
    assert x.grad is not None and x.grad.nan_to_num().abs().sum() > 0
    if name != "sigmoid":  # snntorch's sigmoid surrogate itself overflows to nan
        assert torch.isfinite(x.grad).all()


# --------------------------------------------------------------------------- #
# sub-step by sub-step hand computation
# --------------------------------------------------------------------------- #


def test_hand_computed_map_subtract_no_projection():
    # 2x2 map, quad, g = 4: each window is one pixel, visited TL, TR, BL, BR
    lif = ProjLeaky(beta=0.5, threshold=1.0, projection="none")
    x = torch.tensor([[[[0.9, 0.6], [0.3, 1.2]]]])
    spk, mem = lif(x)
    # U1 = 0.9; U2 = 0.5*0.9 + 0.6 = 1.05 (fires);
    # U3 = 0.5*1.05 + 0.3 - 1.0 = -0.175; U4 = 0.5*-0.175 + 1.2 = 1.1125 (fires)
    assert mem[0, 0].flatten().tolist() == pytest.approx([0.9, 1.05, -0.175, 1.1125])
    assert spk[0, 0].tolist() == [[0.0, 1.0], [0.0, 1.0]]
    # step 2 starts from U4 = 1.1125, which fired: U1 = 0.55625 + 0.9 - 1 = 0.45625
    spk, mem = lif(x)
    u1 = 0.5 * 1.1125 + 0.9 - 1.0
    u2 = 0.5 * u1 + 0.6
    u3 = 0.5 * u2 + 0.3
    u4 = 0.5 * u3 + 1.2 - (1.0 if u3 > 1 else 0.0)
    assert mem[0, 0].flatten().tolist() == pytest.approx([u1, u2, u3, u4])


def test_hand_computed_sincos_with_lateral():
    lif = ProjLeaky(beta=0.5, threshold=1.0, theta=0.5, projection="sincos")
    x = torch.tensor([[[[0.9, 0.6], [0.3, 1.2]]]])
    lat = torch.tensor([[[[0.2, -0.5], [0.8, 0.1]]]])
    spk, mem = lif(x, lateral=lat)
    k = 0.5 * math.pi / 2
    u1 = 0.9  # Omega(0) = 0
    u2 = 0.5 * 2 * math.sin(k * u1) * math.cos(k * 0.2) + 0.6
    u3 = 0.5 * 2 * math.sin(k * u2) * math.cos(k * -0.5) + 0.3 - (1.0 if u2 > 1 else 0.0)
    u4 = 0.5 * 2 * math.sin(k * u3) * math.cos(k * 0.8) + 1.2 - (1.0 if u3 > 1 else 0.0)
    assert mem[0, 0].flatten().tolist() == pytest.approx([u1, u2, u3, u4], abs=1e-6)
    assert spk[0, 0].tolist() == [[float(u > 1) for u in (u1, u2)], [float(u > 1) for u in (u3, u4)]]


PROJ_REF = {
    "sincos": lambda a, b, k: 2 * math.sin(k * a) * (1 if b is None else math.cos(k * b)),
    "nested": lambda a, b, k: 2 * math.sin(k * a) if b is None else 2 * math.sin(k * b * math.cos(k * a)),
    "mean": lambda a, b, k: a if b is None else (a + b) / 2,
    "none": lambda a, b, k: a,
}


def reference_scan(currents, laterals, carried, beta, thr, theta, projection, reset):
    """Scalar sub-step recursion written out with Python floats."""
    k = theta * math.pi / 2
    mems, spikes = [], []
    for p, cur in enumerate(currents):
        b = laterals[p - 1] if (laterals is not None and p > 0) else None
        c = PROJ_REF[projection](carried, b, k)
        r = 1.0 if carried > thr else 0.0
        if reset == "subtract":
            u = beta * c + cur - thr * r
        elif reset == "zero":
            u = beta * (1 - r) * c + cur
        else:
            u = beta * c + cur
        mems.append(u)
        spikes.append(1.0 if u > thr else 0.0)
        carried = u
    return mems, spikes


@pytest.mark.parametrize("reset", RESETS)
@pytest.mark.parametrize("projection", list(PROJ_REF))
@pytest.mark.parametrize("with_lateral", [False, True])
@pytest.mark.parametrize("layout", ["map", "stack"])
def test_substeps_against_scalar_reference(reset, projection, with_lateral, layout):
    gen = torch.Generator().manual_seed(3)
    beta, thr, theta = 0.7, 0.8, 0.6
    lif = ProjLeaky(beta=beta, threshold=thr, theta=theta, projection=projection,
                    reset_mechanism=reset, windows="quad", groups=4)
    # one pixel per window on a 2x2 map: window p is pixel p in row-major order
    steps = [torch.rand(1, 1, 2, 2, generator=gen, dtype=torch.float64) * 1.6 for _ in range(3)]
    lats = [torch.randn(1, 1, 2, 2, generator=gen, dtype=torch.float64) for _ in range(3)]
    lif = lif.double()
    # the module keeps float32 parameters until .double(): compare with those values
    beta, thr, theta = (float(torch.tensor(v)) for v in (beta, thr, theta))
    carried = 0.0
    for x, lat in zip(steps, lats):
        cur = x.flatten().tolist()
        latv = lat.flatten().tolist() if with_lateral else None
        exp_mem, exp_spk = reference_scan(cur, latv, carried, beta, thr, theta, projection, reset)
        carried = exp_mem[-1]
        if layout == "map":
            spk, mem = lif(x, lateral=lat if with_lateral else None)
        else:
            stack = cut_windows(x, "quad", 4)
            spk, mem = lif(stack, lateral=cut_windows(lat, "quad", 4) if with_lateral else None)
            assert spk.shape == stack.shape
        assert mem.flatten().tolist() == pytest.approx(exp_mem, abs=1e-12)
        assert spk.flatten().tolist() == exp_spk


@pytest.mark.parametrize("windows", ["quad", "overlap"])
@pytest.mark.parametrize("size", [(4, 6), (5, 5)])
@pytest.mark.parametrize("groups", [2, 4])
def test_map_layout_equals_stack_layout_plus_recomposition(windows, size, groups):
    torch.manual_seed(4)
    x = torch.rand(2, 3, *size) * 1.5
    lat = torch.randn(2, 3, *size)
    kw = dict(beta=0.6, threshold=0.7, windows=windows, groups=groups, condense="mean")
    on_map, on_stack = ProjLeaky(**kw), ProjLeaky(**kw)
    for _ in range(2):
        spk_m, mem_m = on_map(x, lateral=lat)
        spk_s, mem_s = on_stack(cut_windows(x, windows, groups),
                                lateral=cut_windows(lat, windows, groups))
        assert torch.allclose(spk_m, recompose_spikes(spk_s, size, windows, "mean"))
        assert torch.allclose(mem_m, recompose_membrane(mem_s, size, windows))
        # the crop of the last window in the map is the state carried to the next step
        t = size[0] - mem_s.shape[-2]
        l = size[1] - mem_s.shape[-1]
        assert torch.equal(mem_m[..., t:, l:], mem_s[:, -1])


def test_condense_or_is_binary_and_mean_is_graded():
    torch.manual_seed(5)
    x = torch.rand(2, 2, 5, 5) * 2
    spk_or, _ = ProjLeaky(beta=0.5, threshold=0.8, condense="or")(x)
    spk_mean, _ = ProjLeaky(beta=0.5, threshold=0.8, condense="mean")(x)
    assert set(spk_or.unique().tolist()) <= {0.0, 1.0}
    assert torch.equal(spk_or, (spk_mean > 0).float())
    assert set(spk_mean.unique().tolist()) - {0.0, 1.0}, "overlapping windows give graded means"
    spk_g, _ = ProjLeaky(beta=0.5, threshold=0.8, graded_spikes_factor=2.0)(x)
    assert torch.equal(spk_g, 2 * spk_or)


def test_reset_delay_false_resets_within_the_substep():
    lif = ProjLeaky(beta=0.5, threshold=1.0, projection="none", reset_delay=False)
    spk, mem = lif(torch.tensor([[[[0.9, 0.6], [0.3, 1.2]]]]))
    # U2 = 1.05 fires and is reset at once: 0.05; U3 = 0.025 + 0.3; U4 = 0.1625 + 1.2 - 1
    assert mem[0, 0].flatten().tolist() == pytest.approx([0.9, 0.05, 0.325, 0.3625])
    assert spk[0, 0].tolist() == [[0.0, 1.0], [0.0, 1.0]]


def test_per_channel_beta_and_threshold():
    x = torch.full((1, 2, 2, 2), 0.6)
    lif = ProjLeaky(beta=torch.tensor([0.0, 1.0]), threshold=torch.tensor([0.5, 2.0]),
                    projection="none")
    spk, mem = lif(x)
    # channel 0: beta 0, thr 0.5 -> U = 0.6 fires, the next sub-step subtracts 0.5: 0.1, ...
    # channel 1: beta 1, thr 2 -> integrates 0.6, 1.2, 1.8, 2.4 and fires once
    assert mem[0, 0].flatten().tolist() == pytest.approx([0.6, 0.1, 0.6, 0.1])
    assert mem[0, 1].flatten().tolist() == pytest.approx([0.6, 1.2, 1.8, 2.4])
    assert spk[0, 0].tolist() == [[1, 0], [1, 0]] and spk[0, 1].tolist() == [[0, 0], [0, 1]]


# --------------------------------------------------------------------------- #
# learnable parameters, state, devices, dtypes
# --------------------------------------------------------------------------- #


def test_learnable_parameters_receive_gradients_and_live_in_state_dict():
    lif = ProjLeaky(beta=0.5, threshold=0.7, theta=0.5, learn_beta=True,
                    learn_threshold=True, learn_theta=True)
    names = dict(lif.named_parameters())
    assert set(names) == {"beta", "threshold", "theta"}
    x = torch.rand(2, 3, 6, 6) * 2
    lat = torch.randn(2, 3, 6, 6)
    spk, mem = lif(x, lateral=lat)
    spk2, mem2 = lif(x, lateral=lat)
    (spk2.sum() + mem2.sum()).backward()
    for name, p in names.items():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    state = lif.state_dict()
    assert {"beta", "threshold", "theta"} <= set(state)
    clone = ProjLeaky(beta=0.1, threshold=0.1, theta=0.1, learn_beta=True,
                      learn_threshold=True, learn_theta=True)
    clone.load_state_dict(state)
    lif.reset_mem()
    assert torch.equal(clone(x, lateral=lat)[1], lif(x, lateral=lat)[1])


def test_state_dict_round_trip_with_buffers():
    lif = ProjLeaky(beta=0.3, threshold=0.4, theta=0.9, windows="overlap", groups=2)
    other = ProjLeaky(beta=0.9, threshold=0.9, theta=0.1, windows="overlap", groups=2)
    other.load_state_dict(lif.state_dict())
    x = torch.rand(2, 1, 4, 4)
    assert torch.equal(other(x)[1], lif(x)[1])


def test_new_batch_size_starts_from_a_fresh_state():
    lif = ProjLeaky(beta=0.5, init_hidden=True, output=True)
    lif(torch.rand(4, 2, 4, 4))
    fresh = ProjLeaky(beta=0.5, init_hidden=True, output=True)
    x = torch.rand(3, 2, 4, 4)
    assert torch.equal(lif(x)[1], fresh(x)[1])


def test_options_set_after_a_step_are_seen():
    # the path choice and the output dtypes are remembered per option set: a new
    # spike_grad, reset or condense set after a step must take effect on the next one
    torch.manual_seed(0)
    x = torch.rand(2, 3, 8, 8) * 2
    lif = ProjLeaky(beta=0.5, threshold=0.5, windows="quad", condense="mean")
    ref = ProjLeaky(beta=0.5, threshold=0.5, windows="quad", condense="mean",
                    backend="reference")
    assert lif.resolved_backend() == "eager"
    lif(x)
    step = lambda v: (v > 0).to(torch.float64)  # noqa: E731  (unrecognised, float64 spikes)
    lif.spike_grad = ref.spike_grad = step
    lif.reset_mechanism = ref.reset_mechanism = "zero"
    assert lif.resolved_backend() == "reference"
    lif.reset_hidden()
    ref.reset_hidden()
    spk, mem = lif(x)
    spk_ref, mem_ref = ref(x)
    assert spk.dtype == spk_ref.dtype == torch.float64
    assert torch.equal(spk, spk_ref) and torch.equal(mem, mem_ref)
    lif.spike_grad = ref.spike_grad = surrogate.fast_sigmoid(slope=7.0)
    assert lif.resolved_backend() == "eager" and lif._surrogate_spec() == ("fast_sigmoid", 7.0)
    # back on the fused path, still the reference path's dtypes: snntorch's
    # surrogate fires float32 spikes; the float64 membrane kept from the step
    # before keeps the membrane in float64
    spk, mem = lif(x)
    spk_ref, mem_ref = ref(x)
    assert (spk.dtype, mem.dtype) == (spk_ref.dtype, mem_ref.dtype) \
        == (torch.float32, torch.float64)
    assert torch.equal(spk, spk_ref)
    torch.testing.assert_close(mem, mem_ref)


def test_double_and_to_move_every_buffer():
    lif = ProjLeaky(beta=0.5, threshold=0.7, theta=0.4).double()
    for name, buf in list(lif.named_buffers()) + list(lif.named_parameters()):
        if buf.is_floating_point():
            assert buf.dtype == torch.float64, name
    x = torch.rand(1, 2, 4, 4, dtype=torch.float64)
    spk, mem = lif(x)
    assert mem.dtype == torch.float64
    lif = lif.to("cpu", torch.float32)
    assert lif.theta.dtype == torch.float32


def test_init_hidden_return_conventions():
    x = torch.rand(2, 1, 4, 4)
    assert isinstance(ProjLeaky(0.5, init_hidden=True)(x), torch.Tensor)
    spk, mem = ProjLeaky(0.5, init_hidden=True, output=True)(x)
    assert mem.shape == x.shape
    spk, mem = ProjLeaky(0.5)(x)
    with pytest.raises(TypeError, match="init_hidden"):
        ProjLeaky(0.5, init_hidden=True)(x, mem)


def test_passing_mem_by_hand_carries_the_whole_state():
    torch.manual_seed(6)
    xs = [torch.rand(2, 3, 5, 7) * 1.5 for _ in range(3)]
    lat = torch.randn(2, 3, 5, 7)
    stateful = ProjLeaky(0.6, threshold=0.5)
    by_hand = ProjLeaky(0.6, threshold=0.5)
    mem = torch.zeros(2, 3, 5, 7)
    for x in xs:
        spk_a, mem_a = stateful(x, lateral=lat)
        by_hand.reset_mem()
        spk_b, mem = by_hand(x, mem, lateral=lat)
        assert torch.equal(spk_a, spk_b) and torch.equal(mem_a, mem)


def test_membrane_path_gradcheck():
    torch.manual_seed(7)
    lif = ProjLeaky(beta=0.7, threshold=1.0, theta=0.5).double()
    x = (torch.rand(1, 2, 4, 4, dtype=torch.float64) * 0.8).requires_grad_()
    lat = torch.randn(1, 2, 4, 4, dtype=torch.float64, requires_grad=True)

    def membrane(x, lat):
        lif.reset_mem()
        _, mem = lif(x, lateral=lat)
        _, mem = lif(x * 0.5, lateral=lat)
        return mem

    assert torch.autograd.gradcheck(membrane, (x, lat))


# --------------------------------------------------------------------------- #
# snntorch's reset helpers and ours
# --------------------------------------------------------------------------- #


def test_snntorch_utils_reset_still_works():
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3, padding=1),
                              ProjLeaky(0.5, threshold=0.2, init_hidden=True))
    net(torch.rand(2, 1, 4, 4))
    assert net[1].mem.abs().sum() > 0
    from snntorch import utils as snn_utils

    snn_utils.reset(net)
    assert net[1].mem.abs().sum() == 0


def test_our_reset_is_deep_and_local():
    class Block(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = torch.nn.ModuleList([ProjLeaky(0.5, threshold=0.2, init_hidden=True),
                                              snn.Synaptic(alpha=0.5, beta=0.5, init_hidden=True)])

    net_a = torch.nn.Sequential(Block(), torch.nn.Sequential(snn.Leaky(0.5, init_hidden=True)))
    net_b = torch.nn.Sequential(ProjLeaky(0.5, threshold=0.2, init_hidden=True))
    x = torch.rand(2, 1, 4, 4) + 0.5
    for net in (net_a, net_b):
        for m in net.modules():
            if isinstance(m, snn.SpikingNeuron):
                m(x)
    assert net_a[0].inner[1].syn.abs().sum() > 0
    from snntorch_ms.utils import reset
    reset(net_a)
    assert net_a[0].inner[0].mem.abs().sum() == 0
    assert net_a[0].inner[1].mem.abs().sum() == 0 and net_a[0].inner[1].syn.abs().sum() == 0
    assert net_a[1][0].mem.abs().sum() == 0
    assert net_b[0].mem.abs().sum() > 0, "another network is left untouched"


# --------------------------------------------------------------------------- #
# errors
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(windows="dilated"), "unknown windows"),
        (dict(groups=3), "unknown groups"),
        (dict(projection="cos"), "unknown projection"),
        (dict(condense="max"), "unknown condense"),
        (dict(reset_mechanism="soft"), "reset_mechanism"),
        (dict(theta=0.0), "theta must be > 0"),
        (dict(theta=torch.tensor([0.5, -1.0])), "theta must be > 0"),
        (dict(threshold=-1.0), "threshold must be > 0"),
        (dict(inhibition=True), "inhibition"),
        (dict(beta=torch.ones(2, 2)), r"beta has shape \(2, 2\): with windows"),
    ],
)
def test_bad_options_raise(kwargs, match):
    kwargs = {"beta": 0.5, **kwargs}
    with pytest.raises(ValueError, match=match):
        ProjLeaky(**kwargs)


@pytest.mark.filterwarnings("ignore:Inhibition is an unstable feature")
def test_inhibition_is_allowed_without_windows():
    lif = ProjLeaky(0.5, windows=None, inhibition=True, projection="none")
    leaky = snn.Leaky(0.5, inhibition=True)
    x = torch.rand(3, 5) * 3
    assert torch.equal(lif(x)[0], leaky(x)[0])


@pytest.mark.parametrize("shape", [(4, 5), (2, 3, 4), (1, 2, 3, 4, 5, 6)])
def test_windows_need_a_map_or_a_stack(shape):
    with pytest.raises(ValueError, match="pass windows=None"):
        ProjLeaky(0.5)(torch.rand(*shape))


def test_small_maps_say_to_pass_windows_none():
    with pytest.raises(ValueError, match="windows=None"):
        ProjLeaky(0.5)(torch.rand(1, 2, 1, 4))


def test_stack_with_wrong_window_count():
    with pytest.raises(ValueError, match="g=4"):
        ProjLeaky(0.5)(torch.rand(1, 2, 3, 4, 4))


def test_mismatched_lateral_membrane():
    with pytest.raises(ValueError, match="lateral membrane has shape"):
        ProjLeaky(0.5)(torch.rand(1, 2, 4, 4), lateral=torch.rand(1, 2, 4, 5))
    with pytest.raises(ValueError, match="lateral membrane has shape"):
        ProjLeaky(0.5, windows=None)(torch.rand(3, 4), lateral=torch.rand(3, 5))


def test_per_channel_parameter_of_the_wrong_size():
    with pytest.raises(ValueError, match="3 channels"):
        ProjLeaky(torch.tensor([0.5, 0.5]))(torch.rand(1, 3, 4, 4))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_matches_cpu():
    torch.manual_seed(8)
    x = torch.rand(2, 4, 9, 8) * 1.5
    lat = torch.randn(2, 4, 9, 8)
    for windows in ("quad", "overlap"):
        cpu = ProjLeaky(0.6, threshold=0.7, windows=windows, learn_theta=True)
        gpu = ProjLeaky(0.6, threshold=0.7, windows=windows, learn_theta=True).cuda()
        xc, xg = x.clone().requires_grad_(), x.cuda().requires_grad_()
        sc, mc = cpu(xc, lateral=lat)
        sg, mg = gpu(xg, lateral=lat.cuda())
        (sc.sum() + mc.sum()).backward()
        (sg.sum() + mg.sum()).backward()
        assert torch.equal(sc, sg.cpu())
        assert torch.allclose(mc, mg.cpu(), atol=1e-5)
        assert torch.allclose(xc.grad, xg.grad.cpu(), atol=1e-5)
        assert torch.allclose(cpu.theta.grad, gpu.theta.grad.cpu(), rtol=1e-4, atol=1e-4)
