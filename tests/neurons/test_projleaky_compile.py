"""torch.compile(fullgraph=True) runs ProjLeaky with no graph break and agrees with
eager: the option matrix on the aot_eager backend, one case on inductor.

Tolerance: aot_eager runs the same forward kernels, so spikes and membranes are
compared exactly; its backward uses decomposed formulas, so gradients are compared
at ``rtol=1e-5, atol=1e-6``. Inductor fuses and reorders float32 arithmetic, so
membranes and gradients are compared at ``rtol=1e-5, atol=1e-5``.
"""

import pytest
import torch

from snntorch_ms import ProjLeaky
from snntorch_ms.functional import cut_windows


def run_twice(lif, x, lat):
    lif.reset_mem()
    s1, m1 = lif(x, lateral=lat)
    s2, m2 = lif(x * 0.7, lateral=lat)
    return s1, m1, s2, m2


def compare(kwargs, layout, backend, atol=0.0, rtol=0.0, grad_atol=1e-6, grad_rtol=1e-5,
            size=(6, 5)):
    torch.manual_seed(0)
    x = torch.rand(2, 3, *size) * 1.5
    lat = torch.randn(2, 3, *size)
    if layout == "stack":
        x = cut_windows(x, kwargs.get("windows", "quad"), kwargs.get("groups", 4))
        lat = cut_windows(lat, kwargs.get("windows", "quad"), kwargs.get("groups", 4))
    eager = ProjLeaky(**kwargs)
    compiled_lif = ProjLeaky(**kwargs)
    compiled_lif.load_state_dict(eager.state_dict())
    # dynamic=False: the state buffer changes shape on the first call (empty -> the
    # input's), which would otherwise recompile with symbolic shapes, minutes slower
    compiled = torch.compile(compiled_lif, backend=backend, fullgraph=True, dynamic=False)

    xe, xc = x.clone().requires_grad_(), x.clone().requires_grad_()
    out_e = run_twice(eager, xe, lat)
    compiled_lif.reset_mem()
    s1, m1 = compiled(xc, lateral=lat)
    s2, m2 = compiled(xc * 0.7, lateral=lat)
    out_c = (s1, m1, s2, m2)
    for a, b in zip(out_e, out_c):
        torch.testing.assert_close(a, b, atol=atol, rtol=rtol)
    sum(o.sum() * (i + 1) for i, o in enumerate(out_e)).backward()
    sum(o.sum() * (i + 1) for i, o in enumerate(out_c)).backward()
    torch.testing.assert_close(xe.grad, xc.grad, atol=grad_atol, rtol=grad_rtol)
    for name, p in eager.named_parameters():
        torch.testing.assert_close(p.grad, dict(compiled_lif.named_parameters())[name].grad,
                                   atol=grad_atol, rtol=grad_rtol)


MATRIX = [
    (dict(beta=0.6, threshold=0.8, windows=w, projection=p), "map")
    for w in ("quad", "overlap") for p in ("sincos", "nested", "mean", "none")
] + [
    (dict(beta=0.6, threshold=0.8, reset_mechanism=r, condense=c, learn_theta=True,
          learn_beta=True, learn_threshold=True), layout)
    for r, c, layout in (("zero", "mean", "map"), ("none", "or", "map"),
                         ("subtract", "or", "stack"), ("zero", "or", "stack"))
] + [
    (dict(beta=0.6, threshold=0.8, windows="overlap", groups=2), "map"),
    (dict(beta=0.6, threshold=0.8, windows=None, projection="none"), "map"),
]


@pytest.mark.parametrize("kwargs, layout", MATRIX)
def test_compile_aot_eager_matches_eager(kwargs, layout):
    torch._dynamo.reset()
    compare(kwargs, layout, "aot_eager")


def test_compile_inductor_matches_eager():
    # an even map, the models' usual case (quad windows partition it); the odd map's
    # overlapping windows are covered by the aot_eager matrix above: their masked
    # slice writes cost inductor's CPU code generation ~10 minutes cold on 2 cores
    torch._dynamo.reset()
    compare(dict(beta=0.6, threshold=0.8, windows="quad", projection="sincos",
                 learn_theta=True), "map", "inductor", atol=1e-5, rtol=1e-5,
            grad_atol=1e-5, grad_rtol=1e-5, size=(6, 6))
