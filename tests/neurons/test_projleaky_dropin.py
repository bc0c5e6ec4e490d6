"""ProjLeaky as a drop-in for snntorch.Leaky: constructor positions, parameter
shapes, the kept state, Leaky state dicts, 0-dim inputs, the error hint and the
reset_mechanism setter."""

import inspect

import pytest
import snntorch as snn
import torch
from snntorch import surrogate

from snntorch_ms import ProjLeaky

TWIN = dict(windows=None, projection="none")


def steps(neuron, inputs):
    """(spk, mem) of every step, for a neuron with init_hidden=False."""
    return [tuple(t.clone() for t in neuron(x)) for x in inputs]


def assert_same_steps(a, b):
    for (sa, ma), (sb, mb) in zip(a, b):
        assert torch.equal(sa, sb) and torch.equal(ma, mb)


# ---------------------------------------------------------------- the kept state


@pytest.mark.parametrize("kwargs, shape", [
    (TWIN, (4, 5)),
    (dict(windows=None), (4, 5)),
    (dict(windows=None, backend="eager"), (4, 5)),
    ({}, (2, 3, 8, 8)),
    ({}, (2, 3, 2, 2)),  # 1x1 windows: recomposing by reshape alone would be a view
    (dict(backend="eager"), (2, 3, 2, 2)),
    (dict(groups=2), (2, 1, 2, 2)),
    (dict(windows="overlap"), (2, 3, 7, 9)),
    (dict(backend="eager"), (2, 3, 8, 8)),
    ({}, (2, 4, 3, 4, 4)),
    (dict(backend="eager"), (2, 4, 3, 4, 4)),
])
def test_kept_state_is_never_a_view(kwargs, shape):
    lif = ProjLeaky(0.5, threshold=0.5, init_hidden=True, **kwargs)
    x = torch.rand(*shape, requires_grad=True)
    lif(x)
    assert lif.mem._base is None
    lif.mem.detach_()  # raised "Can't detach views in-place" on the twin in 0.1.0
    assert not lif.mem.requires_grad
    lif(x)
    snn.Leaky.detach_hidden()  # walks every neuron in snntorch's class-wide list
    assert not lif.mem.requires_grad


# ---------------------------------------------------------------- positions


LEAKY_PARAMS = [p for p in inspect.signature(snn.Leaky.__init__).parameters if p != "self"]
# one non-default value per Leaky parameter, in Leaky's order
NON_DEFAULT = dict(
    beta=0.7, threshold=0.4, spike_grad=surrogate.fast_sigmoid(slope=10), surrogate_disable=False,
    init_hidden=False, inhibition=False, learn_beta=True, learn_threshold=True,
    reset_mechanism="zero", state_quant=False, output=False, graded_spikes_factor=2.0,
    learn_graded_spikes_factor=True, reset_delay=False,
)


def test_leading_parameters_are_leakys():
    own = ProjLeaky.__init__
    names = list(inspect.signature(own).parameters)[1:len(LEAKY_PARAMS) + 1]
    assert names == LEAKY_PARAMS
    kinds = {n: p.kind for n, p in inspect.signature(own).parameters.items()}
    for name in ("theta", "windows", "groups", "projection", "condense", "learn_theta", "backend"):
        assert kinds[name] is inspect.Parameter.KEYWORD_ONLY, name


def _same_neuron(leaky, proj):
    for name in ("beta", "threshold", "graded_spikes_factor"):
        a, b = getattr(leaky, name), getattr(proj, name)
        assert torch.equal(a, b) and isinstance(a, torch.nn.Parameter) == isinstance(
            b, torch.nn.Parameter), name
    for name in ("spike_grad", "surrogate_disable", "init_hidden", "inhibition",
                 "reset_mechanism", "state_quant", "output", "reset_delay"):
        a, b = getattr(leaky, name), getattr(proj, name)
        if name == "spike_grad":
            assert a.__code__ is b.__code__, name  # same surrogate (atan closures differ)
        else:
            assert a == b, name


@pytest.mark.parametrize("k", range(1, len(LEAKY_PARAMS) + 1))
@pytest.mark.parametrize("style", ["positional", "keyword"])
def test_every_signature_prefix_builds_the_same_neuron(k, style):
    values = [NON_DEFAULT[n] for n in LEAKY_PARAMS[:k]]
    if style == "positional":
        leaky, proj = snn.Leaky(*values), ProjLeaky(*values, **TWIN)
    else:
        kw = dict(zip(LEAKY_PARAMS[:k], values))
        leaky, proj = snn.Leaky(**kw), ProjLeaky(**kw, **TWIN)
    _same_neuron(leaky, proj)
    torch.manual_seed(0)
    inputs = [torch.randn(3, 6) * (1 + t) for t in range(4)]
    assert_same_steps(steps(leaky, inputs), steps(proj, inputs))


def test_leakys_positional_call_means_what_it_means_for_leaky():
    sg = surrogate.fast_sigmoid()
    lif = ProjLeaky(0.9, 1.0, sg)  # raised "Could not infer dtype of function" in 0.1.0
    assert lif.spike_grad is sg and lif.theta.item() == 0.5
    assert ProjLeaky(0.9, 1.0, sg, False, True).init_hidden is True
    assert ProjLeaky(0.9, backend="eager", windows="overlap", theta=0.3).backend == "eager"


# ---------------------------------------------------------------- beta / threshold shapes


@pytest.mark.parametrize("shape", [(3, 1, 1), (5, 6), (6,), (1,), ()])
def test_twin_takes_every_shape_leaky_takes(shape):
    torch.manual_seed(1)
    beta = torch.rand(shape) * 0.5 + 0.4
    thr = torch.rand(shape) * 0.5 + 0.5
    leaky = snn.Leaky(beta, thr, learn_beta=True)
    proj = ProjLeaky(beta, thr, learn_beta=True, **TWIN)
    inputs = [torch.randn(2, 3, 5, 6) + t for t in range(4)]
    outs_l, outs_p = steps(leaky, inputs), steps(proj, inputs)
    assert_same_steps(outs_l, outs_p)
    loss_l = sum((s * 2 + m).sum() for s, m in outs_l)
    loss_p = sum((s * 2 + m).sum() for s, m in outs_p)
    assert torch.equal(*(torch.autograd.grad(loss, n.beta)[0]
                         for loss, n in ((loss_l, leaky), (loss_p, proj))))


def test_twin_broadcasts_a_vector_over_the_last_dimension_as_leaky():
    beta = torch.tensor([0.1, 0.9, 0.5, 0.3])  # 4 = the last dimension, not the channels
    x = torch.ones(2, 3, 4)
    assert torch.equal(ProjLeaky(beta, **TWIN)(x)[1], snn.Leaky(beta)(x)[1])
    lif = ProjLeaky(beta, **TWIN)
    lif(x)
    assert torch.allclose(lif(x)[1][0, 0], 1 + beta)


def test_windows_take_c_and_c11_as_per_channel():
    torch.manual_seed(2)
    beta = torch.tensor([0.2, 0.6, 0.9])
    thr = torch.tensor([0.3, 0.8, 1.5])
    x = torch.rand(2, 3, 6, 6) * 2
    a = ProjLeaky(beta, thr)
    b = ProjLeaky(beta.view(3, 1, 1), thr.view(3, 1, 1))
    c = [ProjLeaky(float(beta[i]), float(thr[i])) for i in range(3)]
    for _ in range(3):
        sa, ma = a(x)
        sb, mb = b(x)
        per = [n(x[:, i:i + 1]) for i, n in enumerate(c)]
        assert torch.equal(sa, sb) and torch.equal(ma, mb)
        assert torch.equal(sa, torch.cat([s for s, _ in per], 1))
        assert torch.allclose(ma, torch.cat([m for _, m in per], 1))


@pytest.mark.parametrize("name", ["beta", "threshold", "theta", "graded_spikes_factor"])
@pytest.mark.parametrize("shape", [(6, 6), (3, 6, 6), (3, 2, 1), (1, 3, 1, 1)])
def test_windows_refuse_per_position_parameters_and_say_why(name, shape):
    with pytest.raises(ValueError) as err:
        ProjLeaky(**{"beta": 0.5, name: torch.full(shape, 0.5)})
    msg = str(err.value)
    assert msg.startswith(f"{name} has shape {shape}") and "per-channel" in msg
    assert "no meaning across windows" in msg and "windows=None" in msg


@pytest.mark.parametrize("name", ["beta", "threshold", "theta"])
@pytest.mark.parametrize("value", [torch.full((5,), 0.5), torch.full((5, 1, 1), 0.5)])
def test_wrong_channel_count_names_the_parameter_and_both_shapes(name, value):
    lif = ProjLeaky(**{"beta": 0.5, name: value})
    with pytest.raises(ValueError) as err:
        lif(torch.rand(2, 3, 4, 4))
    msg = str(err.value)
    assert msg.startswith(f"{name} has shape {tuple(value.shape)}, 5 per-channel values")
    assert "(2, 3, 4, 4) has 3 channels" in msg


# ---------------------------------------------------------------- the hint leads to Leaky


def test_following_the_error_hint_gives_leaky():
    x = torch.full((4, 3), 0.3)
    with pytest.raises(ValueError) as err:
        ProjLeaky(1.0)(x)
    hint = str(err.value)
    assert 'windows=None, projection="none" for exactly snntorch.Leaky' in hint
    # the hint's neuron integrates like Leaky at beta=1 (the projection saturates instead)
    leaky, twin, projected = (snn.Leaky(1.0, threshold=10.0),
                              ProjLeaky(1.0, threshold=10.0, windows=None, projection="none"),
                              ProjLeaky(1.0, threshold=10.0, windows=None))
    outs_l, outs_t, outs_p = steps(leaky, [x] * 20), steps(twin, [x] * 20), steps(projected, [x] * 20)
    assert_same_steps(outs_l, outs_t)
    assert torch.allclose(outs_t[-1][1], torch.full((4, 3), 6.0))
    assert outs_p[-1][1].max() < 2.5  # why windows=None alone is not Leaky


def test_small_map_hint_names_the_twin_too():
    with pytest.raises(ValueError, match='projection="none"'):
        ProjLeaky(0.5)(torch.rand(1, 2, 1, 4))


# ---------------------------------------------------------------- smaller gaps


def test_zero_dim_input_works_like_leaky():
    leaky, twin = snn.Leaky(0.8, threshold=0.5), ProjLeaky(0.8, threshold=0.5, **TWIN)
    inputs = [torch.tensor(v) for v in (0.3, 0.1, 0.4, -0.2)]
    assert_same_steps(steps(leaky, inputs), steps(twin, inputs))
    assert steps(ProjLeaky(0.8, windows=None), inputs)[0][1].dim() == 0
    with pytest.raises(ValueError, match="windows=None"):
        ProjLeaky(0.8)(torch.tensor(0.3))


def _leaky_net(neuron):
    torch.manual_seed(3)
    return torch.nn.Sequential(torch.nn.Conv2d(1, 3, 3), neuron(), torch.nn.Flatten(),
                               torch.nn.Linear(48, 2))


def test_a_trained_leaky_state_dict_loads_into_the_projleaky_network():
    leaky_net = _leaky_net(lambda: snn.Leaky(torch.full((3, 1, 1), 0.8), learn_beta=True,
                                             learn_threshold=True, init_hidden=True))
    with torch.no_grad():
        leaky_net[1].beta.copy_(torch.tensor([0.2, 0.5, 0.7]).view(3, 1, 1))
        leaky_net[1].threshold.fill_(0.3)
    twin_net = _leaky_net(lambda: ProjLeaky(torch.full((3, 1, 1), 0.9), learn_beta=True,
                                            learn_threshold=True, init_hidden=True, **TWIN))
    windowed = _leaky_net(lambda: ProjLeaky(torch.full((3, 1, 1), 0.9), learn_beta=True,
                                            learn_threshold=True, init_hidden=True, theta=0.4))
    state = leaky_net.state_dict()
    assert "1.theta" not in state
    twin_net.load_state_dict(state)  # strict: raised Missing key "1.theta" in 0.1.0
    windowed.load_state_dict(state)
    assert torch.equal(twin_net[1].beta, leaky_net[1].beta)
    assert windowed[1].theta.item() == pytest.approx(0.4)  # its own theta is kept
    x = torch.rand(2, 1, 6, 6)
    assert torch.equal(leaky_net(x), twin_net(x))


def test_a_projleaky_state_dict_without_leaky_entries_still_fails_strictly():
    lif = ProjLeaky(0.5)
    with pytest.raises(RuntimeError, match="theta"):
        lif.load_state_dict({"graded_spikes_factor": torch.tensor(1.0),
                             "reset_mechanism_val": torch.tensor(0)})


def test_reset_mechanism_set_after_construction_takes_effect():
    inputs = [torch.full((2, 3), 0.7) * (t % 3) for t in range(8)]
    twin = ProjLeaky(0.9, threshold=0.5, **TWIN)
    twin.reset_mechanism = "zero"
    fresh_zero = snn.Leaky(0.9, threshold=0.5, reset_mechanism="zero")
    assert_same_steps(steps(twin, inputs), steps(fresh_zero, inputs))
    # snntorch's own Leaky keeps the mechanism it was built with (the documented difference)
    leaky = snn.Leaky(0.9, threshold=0.5)
    leaky.reset_mechanism = "zero"
    built_subtract = snn.Leaky(0.9, threshold=0.5)
    assert_same_steps(steps(leaky, inputs), steps(built_subtract, inputs))
    with pytest.raises(ValueError):
        twin.reset_mechanism = "bogus"


def test_a_failed_construction_leaves_no_half_built_neuron_behind(monkeypatch):
    from snntorch._neurons.neurons import SpikingNeuron

    before = len(SpikingNeuron.instances)
    with pytest.raises(ValueError, match="unknown reset_mechanism='soft'"):
        ProjLeaky(0.5, reset_mechanism="soft")  # checked before snntorch's constructor
    # a failure inside snntorch's constructor, after it entered the neuron in its list
    def broken(self):
        raise RuntimeError("broken inside Leaky.__init__")

    monkeypatch.setattr(snn.Leaky, "_init_mem", broken)
    with pytest.raises(RuntimeError, match="broken inside"):
        ProjLeaky(0.5)
    monkeypatch.undo()
    assert len(SpikingNeuron.instances) == before
    assert all(hasattr(n, "mem") for n in SpikingNeuron.instances if isinstance(n, ProjLeaky))
    snn.Leaky.detach_hidden()  # walks the whole list: raised AttributeError on a zombie
