"""Training augmentation: torchvision's transforms, drawn from an integer key.

The transforms are torchvision's (``v2.RandomCrop``, ``v2.RandomHorizontalFlip``,
``v2.MixUp``); they draw from torch's generator, which
:func:`~snntorch_ms.data.keyed_rng` seeds per draw and restores afterwards, so a
draw is a pure function of its key (:mod:`snntorch_ms.data.seeding`). The key of a
dataset image is ``(seed, epoch, index)``, the key of a batch's mixup
``(seed, epoch, step, rank)``; the same key gives the same draw in any process (for
one torchvision version: another version may draw differently).

Recipes: ``"basic"`` normalises only; ``"paper"`` crops with zero padding and flips
training images (:func:`train_augmentation`, the augmentation of Yao et al., ACML
2023); mixup (:class:`KeyedMixUp`) is applied to batches by the training loop.
"""

from __future__ import annotations

from typing import Optional

import torch

from .registry import check_recipe, dataset_info
from .seeding import keyed_rng, mix

__all__ = ["RandomCropFlip", "KeyedMixUp", "train_augmentation"]

# recipe="paper" for training sets: (crop padding, horizontal flip)
_PAPER_AUG = {
    "digits": (2, False),
    "mnist": (2, False),
    "fashion-mnist": (2, True),
    "cifar10": (4, True),
    "cifar100": (4, True),
    "tiny-imagenet": (4, True),
}


def _v2():
    try:
        from torchvision.transforms import v2
    except ImportError as err:  # pragma: no cover - torchvision is a 'train' extra
        raise ImportError(
            f"augmentation needs torchvision >= 0.16 (pip install 'snntorch-ms[train]'): {err}"
        ) from err
    return v2


class RandomCropFlip:
    """torchvision's ``v2.RandomCrop(size, padding)`` then ``v2.RandomHorizontalFlip()``,
    drawn from an integer key.

    The crop pads the image with ``padding`` black pixels on each side and cuts a
    random window of the image's own size out of it; the flip mirrors it with
    probability 1/2. Both are torchvision's own transforms, run under
    :func:`~snntorch_ms.data.keyed_rng`, so the result is a pure function of ``(image, key)`` in
    any process (the key of a dataset image is ``(seed, epoch, index)``).

    :param padding: pixels of zero padding on each side before cropping back to
        the original size (0 disables the crop). Defaults to 4.
    :type padding: int, optional
    :param flip: flip horizontally with probability 1/2. Defaults to True.
    :type flip: bool, optional
    :raises ValueError: if ``padding`` is negative.

    Calling it, ``aug(image, key)``, augments ``image`` (``[C, H, W]``, before
    normalisation, so the padding is black) with the draw ``key`` (an ``int``).

    Example::

        >>> aug = RandomCropFlip(padding=1, flip=False)
        >>> x = torch.ones(1, 3, 3)
        >>> torch.equal(aug(x, key=7), aug(x, key=7))
        True
        >>> aug(x, key=7).shape
        torch.Size([1, 3, 3])
        >>> [type(t).__name__ for t in RandomCropFlip(4).transform(32, 32).transforms]
        ['RandomCrop', 'RandomHorizontalFlip']
    """

    def __init__(self, padding: int = 4, flip: bool = True) -> None:
        if padding < 0:
            raise ValueError(f"padding must be >= 0, got {padding}")
        self.padding = int(padding)
        self.flip = bool(flip)
        self._transforms: dict = {}

    def transform(self, height: int, width: int):
        """The torchvision transform applied to images of ``height x width`` (cached).

        :rtype: torchvision.transforms.v2.Compose
        """
        size = (int(height), int(width))
        if size not in self._transforms:
            v2 = _v2()
            steps = [v2.RandomCrop(size, padding=self.padding, fill=0)] if self.padding else []
            steps += [v2.RandomHorizontalFlip(0.5)] if self.flip else []
            self._transforms[size] = v2.Compose(steps)
        return self._transforms[size]

    def __call__(self, image: torch.Tensor, key: int) -> torch.Tensor:
        """Augment ``image`` (``[C, H, W]``, values before normalisation) with the draw ``key``."""
        if not (self.padding or self.flip):
            return image
        transform = self.transform(*image.shape[-2:])
        with keyed_rng(key):
            return transform(image)

    def __repr__(self) -> str:
        return f"RandomCropFlip(padding={self.padding}, flip={self.flip})"


class KeyedMixUp:
    r"""torchvision's ``v2.MixUp`` on a batch, drawn from an integer key.

    .. math::

        \lambda \sim \mathrm{Beta}(\alpha, \alpha), \qquad
        \tilde x_i = \lambda x_i + (1 - \lambda)\, x_{i-1}, \qquad
        \tilde t_i = \lambda\, e_{y_i} + (1 - \lambda)\, e_{y_{i-1}}

    (the partner of each image is the one before it in the batch, which the
    loader has shuffled; :math:`e_y` is the one-hot vector of class :math:`y`).
    ``mix(images, labels, key)`` returns ``(mixed images, soft labels [B, K])``;
    the draw of :math:`\lambda` is a pure function of ``key``
    (:meth:`key` of ``(seed, epoch, step, rank)`` in the training loop), so a
    resumed run mixes its batches as a fresh run does. The images may live on
    any device; :math:`\lambda` is drawn on the CPU.

    :param alpha: the Beta parameter :math:`\alpha > 0` (the paper: 0.1).
    :type alpha: float
    :param num_classes: classes :math:`K` of the soft labels.
    :type num_classes: int

    Example::

        >>> mix = KeyedMixUp(0.1, num_classes=3)
        >>> x, t = mix(torch.ones(2, 1, 2, 2), torch.tensor([0, 2]), key=5)
        >>> t.shape, bool(torch.allclose(t.sum(1), torch.ones(2)))
        (torch.Size([2, 3]), True)
    """

    def __init__(self, alpha: float, num_classes: int) -> None:
        self.alpha = float(alpha)
        self.num_classes = int(num_classes)
        self.mixup = _v2().MixUp(alpha=self.alpha, num_classes=self.num_classes)

    @staticmethod
    def key(seed: int, epoch: int, step: int, rank: int = 0) -> int:
        """The draw of batch ``step`` of ``epoch`` on process ``rank`` of a run with ``seed``."""
        return mix(seed, epoch, step, rank, 0x313C)

    def __call__(self, images: torch.Tensor, labels: torch.Tensor, key: int):
        """Mix a batch ``[B, ...]`` with labels ``[B]``: ``(images, soft labels [B, K])``."""
        with keyed_rng(key):
            return self.mixup(images, labels)

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
