"""Projection variants: values, gradients and gradcheck in double precision."""

import math

import pytest
import torch

from snntorch_ms.functional import (
    PROJECTIONS,
    get_projection,
    mean_projection,
    nested_projection,
    sincos_projection,
)

A, B, THETA = 0.7, -0.4, 0.5
K = THETA * math.pi / 2


@pytest.mark.parametrize(
    "name, with_b, without_b",
    [
        ("sincos", 2 * math.sin(K * A) * math.cos(K * B), 2 * math.sin(K * A)),
        ("nested", 2 * math.sin(K * B * math.cos(K * A)), 2 * math.sin(K * A)),
        ("mean", (A + B) / 2, A),
        ("none", A, A),
    ],
)
def test_projection_values(name, with_b, without_b):
    f = get_projection(name)
    a, b = torch.tensor(A, dtype=torch.float64), torch.tensor(B, dtype=torch.float64)
    assert f(a, b, THETA).item() == pytest.approx(with_b, abs=1e-12)
    assert f(a, None, THETA).item() == pytest.approx(without_b, abs=1e-12)


def test_projection_gradients_match_the_derivatives():
    a = torch.tensor(A, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(B, dtype=torch.float64, requires_grad=True)
    sincos_projection(a, b, THETA).backward()
    assert a.grad.item() == pytest.approx(2 * K * math.cos(K * A) * math.cos(K * B))
    assert b.grad.item() == pytest.approx(-2 * K * math.sin(K * A) * math.sin(K * B))
    a.grad = b.grad = None
    nested_projection(a, b, THETA).backward()
    inner = K * B * math.cos(K * A)
    assert a.grad.item() == pytest.approx(2 * math.cos(inner) * K * B * -math.sin(K * A) * K)
    assert b.grad.item() == pytest.approx(2 * math.cos(inner) * K * math.cos(K * A))
    a.grad = b.grad = None
    mean_projection(a, b).backward()
    assert (a.grad.item(), b.grad.item()) == (0.5, 0.5)


@pytest.mark.parametrize("name", list(PROJECTIONS))
def test_projection_gradcheck(name):
    f = get_projection(name)
    a = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    b = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    theta = torch.tensor([0.5], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, b, t: f(a, b, t), (a, b, theta))
    assert torch.autograd.gradcheck(lambda a, t: f(a, None, t), (a, theta))


def test_sincos_bounds_the_membrane():
    a = torch.linspace(-50, 50, 1001)
    assert sincos_projection(a, torch.randn(1001), 0.5).abs().max() <= 2.0


def test_callable_projection_gets_none_without_lateral():
    seen = []

    def f(a, b):
        seen.append(b is None)
        return a * 3 if b is None else a - b

    g = get_projection(f)
    assert g(torch.tensor(1.0), None, 0.5).item() == 3.0
    assert g(torch.tensor(1.0), torch.tensor(0.25), 0.5).item() == 0.75
    assert seen == [True, False]


def test_unknown_projection():
    with pytest.raises(ValueError, match="unknown projection='cos'"):
        get_projection("cos")
