"""snntorch_ms.data.resident: the dataset on the device, batches made there, with the
same numbers as the per-image path."""

import pytest
import torch
from torch.utils.data import Subset

from snntorch_ms.data import (KeyedMixUp, RandomCropFlip, ResidentLoader, TensorImageDataset,
                              dataset_info, load_dataset, make_loader, set_epoch, subset)


def flipping_dataset(n=90, seed=0):
    """A grey 28x28 uint8 set with the Fashion-MNIST recipe's crop and flip."""
    g = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (n, 1, 28, 28), dtype=torch.uint8, generator=g)
    return TensorImageDataset(images, torch.arange(n) % 10, dataset_info("fashion-mnist"),
                              RandomCropFlip(2, True))


def test_same_batches_as_the_per_image_loader_through_subsets():
    ds = Subset(Subset(flipping_dataset(), list(range(5, 90))), list(range(0, 85, 2)))
    resident = ResidentLoader(ds, 16, train=True, seed=7)
    per_image = make_loader(ds, 16, train=True, seed=7)
    for epoch in (0, 3):
        set_epoch(resident, epoch)
        set_epoch(per_image, epoch)
        pairs = list(zip(resident, per_image))
        assert len(pairs) == len(resident) == 3
        for (xa, ya), (xb, yb) in pairs:
            assert torch.equal(xa, xb) and torch.equal(ya, yb)


def test_evaluation_keeps_the_order_and_does_not_augment():
    ds = flipping_dataset(30)
    loader = ResidentLoader(ds, 8, train=False)
    xs = torch.cat([x for x, _ in loader])
    ys = torch.cat([y for _, y in loader])
    assert torch.equal(ys, ds.targets)
    plain = (ds.images.float() / 255 - 0.2860) / 0.3530
    assert torch.allclose(xs, plain, atol=1e-3)  # normalised, never cropped or flipped
    assert len(loader) == 4  # the last partial batch is kept


def test_mixup_gives_soft_labels_drawn_per_step():
    ds = flipping_dataset(40)
    loader = ResidentLoader(ds, 10, train=True, seed=1, mixup=0.4)
    loader.set_epoch(2)
    batches = list(loader)
    lams = KeyedMixUp(0.4, 10).draw(4, seed=1, epoch=2)
    for step, (x, t) in enumerate(batches):
        assert t.shape == (10, 10) and torch.allclose(t.sum(1), torch.ones(10, dtype=t.dtype))
        assert float(t.max()) == pytest.approx(max(float(lams[step]), 1 - float(lams[step])),
                                               abs=1e-6) or float(t.max()) == pytest.approx(1.0)
    again = list(loader)
    assert all(torch.equal(a[0], b[0]) for a, b in zip(batches, again))


def test_processes_share_the_epoch_and_run_equal_steps():
    ds = flipping_dataset(23)
    shards = [ResidentLoader(ds, 4, train=True, seed=2, rank=r, world=3) for r in range(3)]
    for s in shards:
        s.set_epoch(1)
    labels = [torch.cat([y for _, y in s]) for s in shards]
    assert [len(s) for s in shards] == [2, 2, 2] and [len(y) for y in labels] == [8, 8, 8]
    # together the whole epoch (23 images, one repeated to pad 24)
    seen = torch.cat(labels)
    assert torch.bincount(seen, minlength=10).sum() == 24
    whole = ResidentLoader(ds, 24, train=True, seed=2)
    whole.set_epoch(1)
    assert sorted(seen.tolist())[:23] != [] and len(set(range(23))) == 23


def test_bad_input_is_named():
    with pytest.raises(TypeError, match="ImageDataset or Subsets of one"):
        ResidentLoader(torch.utils.data.TensorDataset(torch.zeros(3, 1)), 2, train=True)
    with pytest.raises(ValueError, match="rank 3 is outside 0..1"):
        ResidentLoader(flipping_dataset(4), 2, train=True, rank=3, world=2)
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        ResidentLoader(flipping_dataset(4), 0, train=True)


def test_digits_run_reads_the_same_images_as_before():
    ds = subset(load_dataset("digits", recipe="basic"), 100, seed=0)
    loader = ResidentLoader(ds, 50, train=False)
    x, y = next(iter(loader))
    assert torch.equal(x, torch.stack([ds[i][0] for i in range(50)]))
