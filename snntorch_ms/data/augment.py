"""Training augmentation as tensor operations on batches, with each epoch's draws made
up front on the CPU.

Crop and flip (:class:`RandomCropFlip`, torchvision's ``RandomCrop`` with zero
padding and ``RandomHorizontalFlip`` as batched indexing) and mixup
(:class:`KeyedMixUp`) run on whatever device holds the batch; their random numbers
are drawn on the CPU, in index (or step) order, from a generator keyed by ``(seed,
epoch)`` (:func:`~snntorch_ms.data.seeding.epoch_rng`). One function thus serves the
CPU and the GPU with the same numbers, in any process, with any number of workers,
and in a run resumed at any epoch; the numbers depend on numpy's generator (PCG64)
and its ``integers``, ``random`` and ``beta`` streams, not on torchvision's internal
draw order.

Recipes: ``"basic"`` normalises only; ``"paper"`` crops with zero padding and flips
training images (:func:`train_augmentation`, the augmentation of Yao et al., ACML
2023); mixup (:class:`KeyedMixUp`) is applied to batches by the training loop.
"""

from __future__ import annotations

from typing import NamedTuple, Optional

import torch
import torch.nn.functional as F

from .registry import check_recipe, dataset_info
from .seeding import epoch_rng

__all__ = ["RandomCropFlip", "CropFlipDraws", "KeyedMixUp", "train_augmentation"]

# the streams of epoch_rng: one per kind of draw, so that they never share numbers
_CROP_FLIP = 0xC7F1
_MIXUP = 0x313C

# recipe="paper" for training sets: (crop padding, horizontal flip)
_PAPER_AUG = {
    "digits": (2, False),
    "mnist": (2, False),
    "fashion-mnist": (2, True),
    "cifar10": (4, True),
    "cifar100": (4, True),
    "tiny-imagenet": (4, True),
}


class CropFlipDraws(NamedTuple):
    r"""One epoch's crop offsets and flips, one row per dataset index (CPU tensors):
    image :math:`i` is cropped at :math:`(d_y[i], d_x[i])` of its padded copy and
    mirrored where :math:`\mathrm{flip}[i]`.

    .. math:: d_y, d_x \in \{0, \dots, 2p\}^n, \qquad \mathrm{flip} \in \{0, 1\}^n

    Example::

        >>> d = RandomCropFlip(2).draw(3, seed=0, epoch=0)
        >>> d.dy.shape, d.flip.dtype
        (torch.Size([3]), torch.bool)
    """

    dy: torch.Tensor
    dx: torch.Tensor
    flip: torch.Tensor


class RandomCropFlip:
    r"""Random crop with zero padding, then random horizontal flip, as tensor
    operations on a batch, with the draws of each epoch made up front.

    .. math::

        \tilde x_{c,r,k} = \bar x_{c,\; r + d_y,\; f(k) + d_x}, \qquad
        f(k) = \begin{cases} W - 1 - k & \text{flipped} \\ k & \text{else} \end{cases}

    with :math:`\bar x` the image padded with ``padding`` black pixels on each side,
    :math:`d_y, d_x \in \{0, \dots, 2p\}` uniform and the flip drawn with probability
    1/2: the crop of torchvision's ``v2.RandomCrop(size, padding, fill=0)`` followed
    by ``v2.RandomHorizontalFlip()``, for the same offsets and flip.

    :meth:`draw` makes an epoch's offsets and flips for indices ``0..n-1``, in index
    order, on the CPU, from a generator keyed by ``(seed, epoch)``
    (:func:`~snntorch_ms.data.seeding.epoch_rng`); calling the transform applies
    them to a batch ``[B, C, H, W]`` on any device. The image of dataset index ``i``
    gets row ``i`` whichever loader, device or worker handles it, so the per-image
    path of :class:`~snntorch_ms.data.ImageDataset` and the resident loader
    (:class:`~snntorch_ms.data.ResidentLoader`) give the same pixels.

    :param padding: pixels of zero padding on each side before cropping back to
        the original size (0 disables the crop). Defaults to 4.
    :type padding: int, optional
    :param flip: flip horizontally with probability 1/2. Defaults to True.
    :type flip: bool, optional
    :raises ValueError: if ``padding`` is negative.

    Example::

        >>> aug = RandomCropFlip(padding=1, flip=True)
        >>> d = aug.draw(4, seed=0, epoch=0)
        >>> x = torch.arange(9.0).reshape(1, 1, 3, 3).repeat(4, 1, 1, 1)
        >>> out = aug(x, d.dy, d.dx, d.flip)
        >>> out.shape, bool(torch.equal(out, aug(x, *aug.draw(4, seed=0, epoch=0))))
        (torch.Size([4, 1, 3, 3]), True)
    """

    def __init__(self, padding: int = 4, flip: bool = True) -> None:
        if padding < 0:
            raise ValueError(f"padding must be >= 0, got {padding}")
        self.padding = int(padding)
        self.flip = bool(flip)

    def draw(self, n: int, seed: int, epoch: int) -> CropFlipDraws:
        """The offsets and flips of ``epoch`` for dataset indices ``0..n-1``.

        :param n: size of the dataset the indices count in.
        :param seed: the run's seed.
        :param epoch: the epoch.
        :rtype: CropFlipDraws
        """
        rng = epoch_rng(seed, epoch, _CROP_FLIP)
        size = 2 * self.padding + 1
        dy = rng.integers(0, size, size=int(n))
        dx = rng.integers(0, size, size=int(n))
        flip = rng.random(int(n)) < 0.5
        if not self.flip:
            flip[:] = False
        return CropFlipDraws(torch.from_numpy(dy), torch.from_numpy(dx), torch.from_numpy(flip))

    def __call__(self, images: torch.Tensor, dy: torch.Tensor, dx: torch.Tensor,
                 flip: torch.Tensor) -> torch.Tensor:
        """Crop and flip a batch ``[B, C, H, W]`` (values before normalisation, so the
        padding is black) with one row of draws per image (moved to its device)."""
        if not (self.padding or self.flip):
            return images
        b, c, h, w = images.shape
        dev = images.device
        dy, dx, flip = dy.to(dev), dx.to(dev), flip.to(dev)
        padded = F.pad(images, (self.padding,) * 4) if self.padding else images
        rows = dy[:, None] + torch.arange(h, device=dev)
        k = torch.arange(w, device=dev)
        cols = dx[:, None] + torch.where(flip[:, None], w - 1 - k, k)
        batch = torch.arange(b, device=dev)[:, None, None, None]
        chan = torch.arange(c, device=dev)[None, :, None, None]
        return padded[batch, chan, rows[:, None, :, None], cols[:, None, None, :]]

    def __repr__(self) -> str:
        return f"RandomCropFlip(padding={self.padding}, flip={self.flip})"


class KeyedMixUp:
    r"""Mixup of a batch with the image before it, :math:`\lambda` drawn per step.

    .. math::

        \lambda \sim \mathrm{Beta}(\alpha, \alpha), \qquad
        \tilde x_i = \lambda x_i + (1 - \lambda)\, x_{i-1}, \qquad
        \tilde t_i = \lambda\, e_{y_i} + (1 - \lambda)\, e_{y_{i-1}}

    (the partner of each image is the one before it in the batch, which the
    loader has shuffled, as in torchvision's ``v2.MixUp``; :math:`e_y` is the
    one-hot vector of class :math:`y`). :meth:`draw` makes the :math:`\lambda` of
    every step of an epoch on the CPU from a generator keyed by ``(seed, epoch,
    rank)`` (:func:`~snntorch_ms.data.seeding.epoch_rng`), so a resumed run mixes
    its batches as a fresh run does; ``mix(images, labels, lam)`` returns ``(mixed
    images, soft labels [B, K])`` on the images' device.

    :param alpha: the Beta parameter :math:`\alpha > 0` (the paper: 0.1).
    :type alpha: float
    :param num_classes: classes :math:`K` of the soft labels.
    :type num_classes: int
    :raises ValueError: for :math:`\alpha \le 0`.

    Example::

        >>> mix = KeyedMixUp(0.1, num_classes=3)
        >>> lam = mix.draw(2, seed=0, epoch=0)
        >>> x, t = mix(torch.ones(2, 1, 2, 2), torch.tensor([0, 2]), float(lam[0]))
        >>> t.shape, bool(torch.allclose(t.sum(1), torch.ones(2)))
        (torch.Size([2, 3]), True)
    """

    def __init__(self, alpha: float, num_classes: int) -> None:
        if not alpha > 0:
            raise ValueError(f"mixup alpha must be > 0, got {alpha}")
        self.alpha = float(alpha)
        self.num_classes = int(num_classes)

    def draw(self, steps: int, seed: int, epoch: int, rank: int = 0) -> torch.Tensor:
        r"""The :math:`\lambda` of steps ``0..steps-1`` of ``epoch`` on process ``rank``
        (float64, CPU)."""
        rng = epoch_rng(seed, epoch, _MIXUP, rank)
        return torch.from_numpy(rng.beta(self.alpha, self.alpha, size=int(steps)))

    def __call__(self, images: torch.Tensor, labels: torch.Tensor, lam: float):
        """Mix a batch ``[B, ...]`` with labels ``[B]``: ``(images, soft labels [B, K])``."""
        lam = float(lam)
        onehot = F.one_hot(labels, self.num_classes).to(images.dtype)
        mixed = images.roll(1, 0).mul_(1.0 - lam).add_(images, alpha=lam)
        target = onehot.roll(1, 0).mul_(1.0 - lam).add_(onehot, alpha=lam)
        return mixed, target

    def __repr__(self) -> str:
        return f"KeyedMixUp(alpha={self.alpha}, num_classes={self.num_classes})"


def train_augmentation(name: str, recipe: str = "paper") -> Optional[RandomCropFlip]:
    """Return the training augmentation of ``recipe`` for dataset ``name`` (or ``None``).

    :param name: one of :data:`~snntorch_ms.data.DATASETS`.
    :type name: str
    :param recipe: one of :data:`~snntorch_ms.data.RECIPES`; ``"basic"`` has no augmentation.
        Defaults to ``"paper"``.
    :type recipe: str, optional
    :rtype: RandomCropFlip or None
    :raises ValueError: for an unknown name or recipe.

    Example::

        >>> train_augmentation("cifar10", "paper")
        RandomCropFlip(padding=4, flip=True)
        >>> train_augmentation("cifar10", "basic") is None
        True
    """
    name = dataset_info(name).name
    check_recipe(recipe)
    if recipe == "basic":
        return None
    padding, flip = _PAPER_AUG[name]
    return RandomCropFlip(padding, flip)
