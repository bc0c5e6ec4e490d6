"""snntorch_ms.data.augment: crop, flip and mixup as tensor operations, with each
epoch's draws made up front from (seed, epoch)."""

import pytest
import torch
from torchvision.transforms.v2 import functional as TF

from snntorch_ms.data import KeyedMixUp, RandomCropFlip, load_dataset


def test_paper_recipe_digits_augments_train_only():
    train = load_dataset("digits", train=True, recipe="paper")
    plain = load_dataset("digits", train=True, recipe="basic")
    test = load_dataset("digits", train=False, recipe="paper")
    assert test.augment is None
    assert plain.augment is None and train.augment is not None
    changed = sum(not torch.equal(train[i][0], plain[i][0]) for i in range(50))
    assert changed > 20
    # a function of (seed, epoch, index)
    assert torch.equal(train[5][0], train[5][0])
    before = torch.stack([train[i][0] for i in range(20)])
    train.set_epoch(1)
    after = torch.stack([train[i][0] for i in range(20)])
    assert not torch.equal(before, after)


def test_crop_and_flip_are_torchvisions_pad_crop_and_flip_for_the_drawn_offsets():
    aug = RandomCropFlip(padding=2, flip=True)
    x = torch.randint(0, 256, (64, 3, 5, 6), dtype=torch.uint8)
    d = aug.draw(64, seed=3, epoch=1)
    out = aug(x, d.dy, d.dx, d.flip)
    for i in range(64):
        ref = TF.crop(TF.pad(x[i], [2, 2, 2, 2], fill=0), int(d.dy[i]), int(d.dx[i]), 5, 6)
        if d.flip[i]:
            ref = TF.horizontal_flip(ref)
        assert torch.equal(out[i], ref), i
    # float images of [0, 1] get black (0) padding too
    xf = x.float() / 255
    assert torch.equal(aug(xf, d.dy, d.dx, d.flip), out.float() / 255)


def test_draws_are_uniform_offsets_and_fair_flips_keyed_by_seed_and_epoch():
    aug = RandomCropFlip(padding=1, flip=True)
    d = aug.draw(9000, seed=0, epoch=0)
    counts = torch.bincount(d.dy * 3 + d.dx, minlength=9)
    assert counts.min() > 850 and counts.max() < 1150  # 1000 each on average
    assert 4300 < int(d.flip.sum()) < 4700
    again = aug.draw(9000, seed=0, epoch=0)
    assert all(torch.equal(a, b) for a, b in zip(d, again))
    assert not torch.equal(aug.draw(9000, seed=0, epoch=1).dx, d.dx)
    assert not torch.equal(aug.draw(9000, seed=1, epoch=0).dx, d.dx)
    assert not RandomCropFlip(1, flip=False).draw(100, 0, 0).flip.any()


def test_no_crop_and_no_flip_is_the_image_itself():
    x = torch.rand(2, 1, 4, 4)
    aug = RandomCropFlip(0, False)
    assert aug(x, *aug.draw(2, 0, 0)) is x
    with pytest.raises(ValueError, match="padding must be >= 0"):
        RandomCropFlip(-1)


def test_mixup_mixes_each_image_with_the_one_before_by_hand():
    mix = KeyedMixUp(0.4, num_classes=3)
    x = torch.tensor([1.0, 10.0, 100.0]).view(3, 1, 1, 1)
    y = torch.tensor([0, 2, 2])
    xm, t = mix(x, y, 0.75)
    expect = torch.tensor([0.75 * 1 + 0.25 * 100, 0.75 * 10 + 0.25 * 1,
                           0.75 * 100 + 0.25 * 10]).view(3, 1, 1, 1)
    assert torch.allclose(xm, expect, rtol=1e-6)
    assert torch.allclose(t, torch.tensor([[0.75, 0, 0.25], [0.25, 0, 0.75], [0, 0, 1.0]]))
    assert torch.equal(x, torch.tensor([1.0, 10.0, 100.0]).view(3, 1, 1, 1))  # not in place
    with pytest.raises(ValueError, match="alpha must be > 0"):
        KeyedMixUp(0.0, 3)


def test_mixup_lambdas_are_beta_draws_keyed_by_seed_epoch_and_rank():
    mix = KeyedMixUp(0.4, num_classes=3)
    lams = mix.draw(4000, seed=0, epoch=0)
    # Beta(0.4, 0.4): mean 1/2, variance 1 / (4 (2 alpha + 1)) = 0.1389
    assert abs(lams.mean().item() - 0.5) < 0.02 and abs(lams.var().item() - 0.1389) < 0.01
    assert torch.equal(lams, mix.draw(4000, seed=0, epoch=0))
    others = [mix.draw(5, *k) for k in ((1, 0, 0), (0, 1, 0), (0, 0, 1))]
    assert all(not torch.equal(o, lams[:5]) for o in others)
