"""Window geometry, cutting and recomposition against hand-computed cases."""

import pytest
import torch

from snntorch_ms.functional import (
    coverage,
    cut_windows,
    recompose_membrane,
    recompose_spikes,
    window_boxes,
    window_size,
)


@pytest.mark.parametrize(
    "size, windows, groups, expected",
    [
        # even sizes: quad windows partition the map
        ((4, 6), "quad", 4, [(0, 2, 0, 3), (0, 2, 3, 6), (2, 4, 0, 3), (2, 4, 3, 6)]),
        # odd sizes: quad windows overlap by one row / column
        ((5, 3), "quad", 4, [(0, 3, 0, 2), (0, 3, 1, 3), (2, 5, 0, 2), (2, 5, 1, 3)]),
        # overlap: ceil(3H/4) x ceil(3W/4) at the four corners
        ((8, 8), "overlap", 4, [(0, 6, 0, 6), (0, 6, 2, 8), (2, 8, 0, 6), (2, 8, 2, 8)]),
        ((5, 7), "overlap", 4, [(0, 4, 0, 6), (0, 4, 1, 7), (1, 5, 0, 6), (1, 5, 1, 7)]),
        # g = 2: left and right, full height
        ((4, 6), "quad", 2, [(0, 4, 0, 3), (0, 4, 3, 6)]),
        ((4, 5), "quad", 2, [(0, 4, 0, 3), (0, 4, 2, 5)]),
        ((4, 8), "overlap", 2, [(0, 4, 0, 6), (0, 4, 2, 8)]),
        # g = 1: the whole map
        ((3, 5), "quad", 1, [(0, 3, 0, 5)]),
        ((3, 5), "overlap", 1, [(0, 3, 0, 5)]),
        # the smallest map windows accept
        ((2, 2), "quad", 4, [(0, 1, 0, 1), (0, 1, 1, 2), (1, 2, 0, 1), (1, 2, 1, 2)]),
        ((2, 2), "overlap", 4, [(0, 2, 0, 2)] * 4),
    ],
)
def test_window_boxes(size, windows, groups, expected):
    assert window_boxes(*size, windows, groups) == expected
    h, w = window_size(*size, windows, groups)
    assert all(b - t == h and r - l == w for t, b, l, r in expected)


def test_coverage_counts():
    assert coverage(4, 4, "quad", 4).eq(1).all()
    assert coverage(3, 3, "quad", 4).tolist() == [[1, 2, 1], [2, 4, 2], [1, 2, 1]]
    # overlap 4x4: windows 3x3 at the corners
    assert coverage(4, 4, "overlap", 4).tolist() == [
        [1, 2, 2, 1], [2, 4, 4, 2], [2, 4, 4, 2], [1, 2, 2, 1]]
    assert coverage(4, 5, "quad", 2).tolist() == [[1, 1, 2, 1, 1]] * 4


def test_small_maps_are_refused_with_a_hint():
    with pytest.raises(ValueError, match="windows=None"):
        window_boxes(1, 4, "quad", 4)
    with pytest.raises(ValueError, match="unknown windows"):
        window_boxes(4, 4, "dilated", 4)
    with pytest.raises(ValueError, match="unknown groups"):
        window_boxes(4, 4, "quad", 3)


def test_cut_windows_hand_case():
    x = torch.arange(9.0).reshape(1, 1, 3, 3)
    stack = cut_windows(x, "quad", 4)
    assert stack.shape == (1, 4, 1, 2, 2)
    assert stack[0, :, 0].tolist() == [
        [[0, 1], [3, 4]],
        [[1, 2], [4, 5]],
        [[3, 4], [6, 7]],
        [[4, 5], [7, 8]],
    ]
    left_right = cut_windows(torch.arange(8.0).reshape(1, 1, 2, 4), "overlap", 2)
    assert left_right[0, :, 0].tolist() == [[[0, 1, 2], [4, 5, 6]], [[1, 2, 3], [5, 6, 7]]]
    with pytest.raises(ValueError, match=r"\[B, C, H, W\]"):
        cut_windows(torch.zeros(3, 3), "quad", 4)


@pytest.mark.parametrize("windows", ["quad", "overlap"])
@pytest.mark.parametrize("groups", [1, 2, 4])
@pytest.mark.parametrize("size", [(4, 4), (5, 7), (2, 3)])
def test_cut_then_recompose_membrane_is_identity(windows, groups, size):
    x = torch.randn(2, 3, *size)
    stack = cut_windows(x, windows, groups)
    assert torch.equal(recompose_membrane(stack, size, windows), x)
    # every window value equal to its map value: the mean over covering windows is the map
    assert torch.allclose(recompose_spikes(stack, size, windows, "mean"), x)


def test_recompose_membrane_keeps_the_last_window():
    stack = torch.arange(1.0, 5.0).reshape(1, 4, 1, 1, 1).expand(1, 4, 1, 2, 2)
    out = recompose_membrane(stack, (3, 3), "quad")[0, 0]
    assert out.tolist() == [[1, 2, 2], [3, 4, 4], [3, 4, 4]]
    # the crop of the last window is exactly window g
    assert out[1:, 1:].eq(4).all()


def test_recompose_spikes_mean_and_or():
    s = torch.zeros(1, 4, 1, 2, 2)
    s[0, 0, 0, 1, 1] = 1.0  # top-left window fires at the centre of a 3x3 map
    s[0, 1, 0, 0, 0] = 1.0  # top-right window fires at (0, 1)
    mean = recompose_spikes(s, (3, 3), "quad", "mean")[0, 0]
    assert mean.tolist() == [[0, 0.5, 0], [0, 0.25, 0], [0, 0, 0]]
    binary = recompose_spikes(s, (3, 3), "quad", "or")[0, 0]
    assert binary.tolist() == [[0, 1, 0], [0, 1, 0], [0, 0, 0]]
    graded = recompose_spikes(2.5 * s, (3, 3), "quad", "or", magnitude=2.5)[0, 0]
    assert graded.tolist() == [[0, 2.5, 0], [0, 2.5, 0], [0, 0, 0]]


def test_recompose_or_passes_the_mean_gradient_straight_through():
    s = torch.zeros(1, 4, 1, 2, 2, requires_grad=True)
    weight = torch.arange(9.0).reshape(1, 1, 3, 3)
    (recompose_spikes(s, (3, 3), "quad", "or") * weight).sum().backward()
    ref = torch.zeros(1, 4, 1, 2, 2, requires_grad=True)
    (recompose_spikes(ref, (3, 3), "quad", "mean") * weight).sum().backward()
    assert torch.equal(s.grad, ref.grad)
    # the centre is covered by four windows: each gets a quarter of its weight
    assert s.grad[0, 0, 0, 1, 1] == pytest.approx(4.0 / 4)


def test_recompose_checks_the_stack():
    with pytest.raises(ValueError, match="window stack"):
        recompose_spikes(torch.zeros(1, 1, 3, 3), (3, 3))
    with pytest.raises(ValueError, match="windows of 2x2"):
        recompose_membrane(torch.zeros(1, 4, 1, 3, 3), (4, 4), "quad")
    with pytest.raises(ValueError, match="unknown condense"):
        recompose_spikes(torch.zeros(1, 4, 1, 2, 2), (4, 4), "quad", "max")
