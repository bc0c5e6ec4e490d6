"""snntorch_ms.data.seeding: the keys of every draw are the same integers as before
(pinned values: a change here changes every augmented run and every shuffle)."""

import pytest
import torch

from snntorch_ms.data import EpochSampler, KeyedMixUp, RandomCropFlip
from snntorch_ms.data.seeding import epoch_order, keyed_rng, mix, splitmix64


def test_mix_is_pinned():
    assert [mix(*k) for k in [(0,), (1,), (7, 3), (1, 2, 3), (2**70, -1), (0, 0, 0, 0, 0x313C)]] == [
        16294208416658607535, 10451216379200822465, 7758145696617331093, 15020427595393229491,
        3303439293501059696, 9106171038157818067]



def test_augmentation_draws_are_pinned():
    # a change here changes every augmented run (numpy's PCG64 streams, our keys)
    d = RandomCropFlip(4).draw(6, seed=0, epoch=0)
    assert (d.dy.tolist(), d.dx.tolist(), d.flip.tolist()) == (
        [0, 0, 1, 6, 0, 7], [1, 1, 8, 6, 8, 0], [True, False, False, True, False, True])
    lam = KeyedMixUp(0.1, 10).draw(3, seed=1, epoch=2, rank=0).tolist()
    assert lam == pytest.approx([0.9999999999996987, 0.9999985343909792, 0.1412922910650936],
                                rel=1e-12)


def test_mix_chains_splitmix64_and_is_order_sensitive():
    assert mix() == 0
    assert mix(5) == splitmix64(5)
    assert mix(5, 9) == splitmix64(splitmix64(5) ^ 9)
    assert mix(1, 2) != mix(2, 1)
    assert mix(-1) == mix(2**64 - 1)  # two's complement modulo 2**64
    assert len({splitmix64(x) for x in range(1000)}) == 1000


def test_sampler_draws_from_the_mixed_key():
    s = EpochSampler(20, seed=4)
    s.set_epoch(5)
    g = torch.Generator().manual_seed(mix(4, 5) >> 1)
    assert list(s) == torch.randperm(20, generator=g).tolist() == epoch_order(20, 4, 5).tolist() == [
        12, 8, 3, 4, 1, 6, 18, 14, 0, 15, 7, 13, 9, 11, 2, 10, 5, 19, 16, 17]


def test_keyed_rng_restores_the_global_state():
    torch.manual_seed(1)
    before = torch.get_rng_state()
    with keyed_rng(2**64 + 3):  # taken modulo 2**64
        a = torch.rand(3)
    assert torch.equal(torch.get_rng_state(), before)
    with keyed_rng(3):
        assert torch.equal(torch.rand(3), a)
