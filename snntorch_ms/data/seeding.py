r"""Keyed randomness: every random draw of the data layer is a pure function of integers.

The crop and flip of a dataset image are drawn from the key
``mix(seed, epoch, index)``, a batch's mixup from ``mix(seed, epoch, step, rank,
0x313C)``, a loader's shuffle from ``mix(seed, epoch) >> 1`` and its worker seeds
from ``mix(seed, epoch, 1) >> 1``; the training loop seeds each epoch's generators
from ``mix(seed, epoch, rank, 0x5EED) >> 2``. None of them reads a global random
state, so the draws are the same with any number of workers, in any process, and
in a run resumed at any epoch.

:func:`mix` hashes its integers with SplitMix64 (Steele, Lea and Flood, OOPSLA 2014;
the step of ``java.util.SplittableRandom``); :func:`keyed_rng` runs a block with torch's CPU
generator seeded by a key, so that torchvision's transforms, which draw from that
generator, draw from the key.
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import torch

__all__ = ["splitmix64", "mix", "keyed_rng", "epoch_rng", "epoch_order"]

_MASK64 = (1 << 64) - 1


def splitmix64(x: int) -> int:
    r"""SplitMix64's step: one 64-bit integer to another, a bijection that scatters bits.

    .. math::

        z_0 &= (x + \mathtt{0x9E3779B97F4A7C15}) \bmod 2^{64} \\
        z_1 &= \big((z_0 \oplus (z_0 \gg 30)) \cdot \mathtt{0xBF58476D1CE4E5B9}\big) \bmod 2^{64} \\
        z_2 &= \big((z_1 \oplus (z_1 \gg 27)) \cdot \mathtt{0x94D049BB133111EB}\big) \bmod 2^{64} \\
        \mathrm{splitmix64}(x) &= z_2 \oplus (z_2 \gg 31)

    :param x: an integer in :math:`[0, 2^{64})`.
    :type x: int
    :rtype: int

    Example::

        >>> splitmix64(0)
        16294208416658607535
        >>> hex(splitmix64(1))
        '0x910a2dec89025cc1'
    """
    x = (x + 0x9E3779B97F4A7C15) & _MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
    return x ^ (x >> 31)


def mix(*values: int) -> int:
    r"""Hash integers into one 64-bit integer: order-sensitive, the same on every platform.

    .. math::

        h_0 = 0, \qquad h_k = \mathrm{splitmix64}\big(h_{k-1} \oplus (v_k \bmod 2^{64})\big),
        \qquad \mathrm{mix}(v_1, \dots, v_n) = h_n

    Negative values enter as their two's complement modulo :math:`2^{64}`. Seed a
    :class:`torch.Generator` with ``mix(...) >> 1`` (its seed must fit 63 bits).

    :param values: the integers of the key, e.g. ``(seed, epoch, index)``.
    :type values: int
    :rtype: int

    Example::

        >>> mix(1, 2) != mix(2, 1)
        True
        >>> mix(7) == splitmix64(7)
        True
        >>> g = torch.Generator().manual_seed(mix(0, 3) >> 1)
    """
    h = 0
    for v in values:
        h = splitmix64(h ^ (int(v) & _MASK64))
    return h


@contextmanager
def keyed_rng(key: int):
    """Run the block with torch's CPU generator seeded by ``key``; restore it after.

    torchvision's random transforms draw from that generator: inside the block
    their draws are a pure function of ``key`` (an ``int``, taken modulo
    :math:`2^{64}`), and the random state outside the block is left as it was.

    Example::

        >>> with keyed_rng(7):
        ...     a = torch.rand(2)
        >>> with keyed_rng(7):
        ...     b = torch.rand(2)
        >>> torch.equal(a, b)
        True
    """
    with torch.random.fork_rng(devices=[]):
        torch.default_generator.manual_seed(int(key) & _MASK64)
        yield


def epoch_rng(seed: int, epoch: int, *stream: int) -> np.random.Generator:
    r"""A numpy generator (PCG64) keyed by ``(seed, epoch, *stream)``: the source of an
    epoch's augmentation draws, made on the CPU in index order.

    .. math:: g = \mathrm{PCG64}\big(\mathrm{mix}(\text{seed}, \text{epoch}, \text{stream}\dots)\big)

    Example::

        >>> a = epoch_rng(0, 1, 7).integers(0, 9, size=3)
        >>> b = epoch_rng(0, 1, 7).integers(0, 9, size=3)
        >>> bool((a == b).all())
        True
    """
    return np.random.default_rng(mix(seed, epoch, *stream))


def epoch_order(n: int, seed: int, epoch: int) -> torch.Tensor:
    r"""The training order of epoch ``epoch``: a permutation of ``0..n-1`` that depends
    only on ``(seed, epoch)``, shared by :class:`~snntorch_ms.data.EpochSampler` and
    :class:`~snntorch_ms.data.ResidentLoader`.

    .. math:: \pi = \mathrm{randperm}\big(n;\ \mathrm{mix}(\text{seed}, \text{epoch}) / 2\big)

    Example::

        >>> sorted(epoch_order(5, 0, 0).tolist())
        [0, 1, 2, 3, 4]
    """
    g = torch.Generator().manual_seed(mix(seed, epoch) >> 1)
    return torch.randperm(int(n), generator=g)
