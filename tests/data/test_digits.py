"""snntorch_ms.data.sources.digits: scikit-learn's digits, upsampled, split 80/20."""

import torch

from snntorch_ms.data import load_dataset
from snntorch_ms.data.sources import digits


def test_digits_shapes_labels_normalisation():
    train = load_dataset("digits", train=True)
    test = load_dataset("digits", train=False)
    assert (len(train), len(test)) == (1438, 359)
    x, y = train[0]
    assert x.shape == (1, 16, 16) and x.dtype == torch.float32 and isinstance(y, int)
    xs = torch.stack([train[i][0] for i in range(len(train))])
    assert abs(xs.mean().item()) < 0.01
    assert abs(xs.std().item() - 1.0) < 0.01
    for ds in (train, test):
        labels = ds.targets
        assert labels.min() == 0 and labels.max() == 9
        counts = torch.bincount(labels, minlength=10)
        assert (counts > 0).all()
    # stratified: each class ~20 % in test
    frac = torch.bincount(test.targets, minlength=10) / (
        torch.bincount(test.targets, minlength=10) + torch.bincount(train.targets, minlength=10)
    )
    assert ((frac - 0.2).abs() < 0.01).all()


def test_digits_split_deterministic_and_disjoint():
    digits._DIGITS_CACHE.clear()
    a = load_dataset("digits", train=True)
    b_test = load_dataset("digits", train=False)
    digits._DIGITS_CACHE.clear()
    b = load_dataset("digits", train=True)
    assert torch.equal(a.images, b.images) and torch.equal(a.targets, b.targets)
    # no training image appears in the test set
    flat_train = {tuple(r.tolist()) for r in a.images.flatten(1)}
    assert not any(tuple(r.tolist()) in flat_train for r in b_test.images.flatten(1)[:50])
