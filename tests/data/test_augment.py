"""snntorch_ms.data.augment: torchvision's crop, flip and mixup drawn from a key."""

import torch

from snntorch_ms.data import KeyedMixUp, RandomCropFlip, load_dataset
from snntorch_ms.data.seeding import mix


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


def _shift(x, dy, dx):
    """out[i, j] = x[i + dy, j + dx], 0 outside: a crop of the zero-padded image."""
    ref = torch.zeros_like(x)
    h, w = x.shape[-2:]
    for i in range(h):
        for j in range(w):
            if 0 <= i + dy < h and 0 <= j + dx < w:
                ref[..., i, j] = x[..., i + dy, j + dx]
    return ref


def test_random_crop_flip_is_torchvisions_crop_and_flip_drawn_from_the_key():
    from torchvision.transforms import v2

    x = torch.arange(1.0, 17.0).view(1, 4, 4)
    aug = RandomCropFlip(padding=1, flip=True)
    shifts = {(dy, dx): _shift(x, dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)}
    seen, flips = {}, 0
    state = torch.get_rng_state()
    for k in range(400):
        key = mix(k)
        out = aug(x, key)
        assert torch.equal(out, aug(x, key))  # a pure function of the key
        # the same as torchvision's own transforms seeded with the key
        torch.manual_seed(key)
        ref = v2.RandomHorizontalFlip()(v2.RandomCrop(4, padding=1)(x))
        assert torch.equal(out, ref)
        # and it is one of the 9 shifts, mirrored or not
        flipped = not any(torch.equal(out, s) for s in shifts.values())
        flips += flipped
        plain = out.flip(-1) if flipped else out
        (shift,) = [d for d, s in shifts.items() if torch.equal(plain, s)]
        seen[shift] = seen.get(shift, 0) + 1
    torch.set_rng_state(state)
    assert len(seen) == 9 and min(seen.values()) > 20  # 400 / 9 = 44 each on average
    assert 160 < flips < 240  # p = 1/2
    # keyed_rng leaves the global generator where it was
    torch.manual_seed(3)
    before = torch.get_rng_state()
    aug(x, 123)
    assert torch.equal(torch.get_rng_state(), before)
    # no crop and no flip: the image itself
    assert RandomCropFlip(0, False)(x, 5) is x


def test_keyed_mixup_is_torchvisions_mixup_drawn_from_the_key():
    mix = KeyedMixUp(0.4, num_classes=3)
    x = torch.tensor([1.0, 10.0, 100.0]).view(3, 1, 1, 1)
    y = torch.tensor([0, 2, 2])
    xm, t = mix(x, y, key=11)
    # lambda from the soft label of image 0 (class 0, its partner is image 2, class 2)
    lam = float(t[0, 0])
    assert 0.0 < lam < 1.0
    # partner = the image before in the batch: x_i <- lam x_i + (1 - lam) x_{i-1}
    expect = torch.tensor([lam * 1 + (1 - lam) * 100, lam * 10 + (1 - lam) * 1,
                           lam * 100 + (1 - lam) * 10]).view(3, 1, 1, 1)
    assert torch.allclose(xm, expect, rtol=1e-6)
    assert torch.allclose(t, torch.tensor([[lam, 0, 1 - lam], [1 - lam, 0, lam], [0, 0, 1.0]]))
    xm2, t2 = mix(x, y, key=11)
    assert torch.equal(xm, xm2) and torch.equal(t, t2)
    assert not torch.equal(mix(x, y, key=12)[1], t)
    # the key of a batch depends on (seed, epoch, step, rank), each of them
    keys = {KeyedMixUp.key(*a) for a in ((0, 0, 0, 0), (1, 0, 0, 0), (0, 1, 0, 0), (0, 0, 1, 0),
                                         (0, 0, 0, 1))}
    assert len(keys) == 5
    # lambda ~ Beta(0.4, 0.4): mean 1/2, variance 1 / (4 (2 alpha + 1)) = 0.1389
    lams = torch.tensor([float(mix(x, y, key=k)[1][0, 0]) for k in range(2000)])
    assert abs(lams.mean().item() - 0.5) < 0.03 and abs(lams.var().item() - 0.1389) < 0.015
