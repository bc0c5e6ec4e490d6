"""A loader that keeps a whole (small) dataset on one device and makes its batches
there: gathered, cropped and flipped, normalised and mixed as tensor operations.

The pattern of timm's ``PrefetchLoader`` (a loader wrapper that does the per-batch
work on the device), with every random number of an epoch drawn up front on the CPU
from ``(seed, epoch)``: the order (:func:`~snntorch_ms.data.seeding.epoch_order`,
the permutation of :class:`~snntorch_ms.data.EpochSampler`), the crop offsets and
flips in dataset-index order (:meth:`RandomCropFlip.draw
<snntorch_ms.data.RandomCropFlip.draw>`, the draws the per-image path of
:class:`~snntorch_ms.data.ImageDataset` uses) and the mixup coefficient of each step
(:meth:`KeyedMixUp.draw <snntorch_ms.data.KeyedMixUp.draw>`). So the CPU and a GPU
see the same batches, a resumed run the batches a fresh run would have seen, and
nothing synchronises the host with the device per step. The training loop of
:mod:`snntorch_ms.train` reads every split through it.
"""

from __future__ import annotations

import math
from typing import Iterator, List, Tuple

import torch
from torch.utils.data import Subset

from .augment import KeyedMixUp
from .datasets import ImageDataset, TensorImageDataset
from .seeding import epoch_order

__all__ = ["ResidentLoader"]


def _base_and_indices(dataset) -> Tuple[ImageDataset, List[int]]:
    """The :class:`ImageDataset` under a chain of Subsets, and the base indices."""
    if isinstance(dataset, ImageDataset):
        return dataset, list(range(len(dataset)))
    if isinstance(dataset, Subset):
        base, inner = _base_and_indices(dataset.dataset)
        return base, [inner[int(i)] for i in dataset.indices]
    raise TypeError(f"ResidentLoader reads an ImageDataset or Subsets of one, got "
                    f"{type(dataset).__name__}; use make_loader for other datasets")


def _raw_images(base: ImageDataset, indices: List[int]) -> torch.Tensor:
    """The images before scaling, ``[N, C, H, W]``: uint8 where the source is, else
    float in [0, 1] (files are decoded here, once)."""
    idx = torch.as_tensor(indices, dtype=torch.long)
    if isinstance(base, TensorImageDataset):
        images = base.images[idx] if len(indices) else base.images[:0]
        return images if images.dtype == torch.uint8 else images.to(torch.float32)
    return torch.stack([base.raw_image(i) for i in indices])


class ResidentLoader:
    r"""Batches of a dataset held on ``device``, made there.

    Per batch of indices :math:`B` (a slice of the epoch's order):

    .. math::

        x = \frac{\mathrm{cropflip}(X_B / 255;\ d_B) - \mu}{\sigma}, \qquad
        (\tilde x, t) = \mathrm{mixup}(x, y_B;\ \lambda_{\rm step})

    (crop and flip only for a training set with a recipe's augmentation; mixup only
    with ``mixup > 0``, then ``t`` is the soft labels ``[B, K]``, else the labels).
    Training loaders shuffle and keep the last partial batch; with ``world > 1``
    process ``rank`` takes every ``world``-th index of the order, padded by repeating
    its start so that every process runs the same number of steps (as
    :class:`~torch.utils.data.distributed.DistributedSampler` does). Evaluation
    loaders keep the dataset order. Call :meth:`set_epoch` before each epoch (or
    :func:`~snntorch_ms.data.set_epoch` on the loader).

    :param dataset: an :class:`~snntorch_ms.data.ImageDataset` or Subsets of one; its
        images are copied to ``device`` once (uint8 where the source is uint8).
    :type dataset: torch.utils.data.Dataset
    :param batch_size: samples per batch.
    :type batch_size: int
    :param train: shuffle, augment (when the dataset has a recipe's augmentation)
        and mix.
    :type train: bool
    :param seed: seed of the order and the draws. Defaults to 0.
    :type seed: int, optional
    :param device: where the images live and the batches are made. Defaults to "cpu".
    :type device: str or torch.device, optional
    :param mixup: mixup :math:`\alpha` (0: off). Defaults to 0.0.
    :type mixup: float, optional
    :param rank: this process's rank. Defaults to 0.
    :type rank: int, optional
    :param world: number of processes. Defaults to 1.
    :type world: int, optional
    :raises TypeError: for a dataset that is not an ImageDataset (or Subsets of one).
    :raises ValueError: for a batch size below 1 or a rank outside ``0..world-1``.

    Example::

        >>> from snntorch_ms.data import load_dataset
        >>> loader = ResidentLoader(load_dataset("digits", recipe="paper"), 64, train=True,
        ...                         mixup=0.1)
        >>> loader.set_epoch(0)
        >>> x, t = next(iter(loader))
        >>> x.shape, t.shape, len(loader)
        (torch.Size([64, 1, 16, 16]), torch.Size([64, 10]), 23)
    """

    def __init__(self, dataset, batch_size: int, train: bool, seed: int = 0,
                 device="cpu", mixup: float = 0.0, rank: int = 0, world: int = 1) -> None:
        if int(batch_size) < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if not 0 <= int(rank) < int(world):
            raise ValueError(f"rank {rank} is outside 0..{int(world) - 1}")
        base, indices = _base_and_indices(dataset)
        self.dataset = dataset
        self.device = torch.device(device)
        self.batch_size, self.train, self.seed = int(batch_size), bool(train), int(seed)
        self.rank, self.world, self.epoch = int(rank), int(world), 0
        self.base_size = len(base)
        self.indices = torch.as_tensor(indices, dtype=torch.long)
        self.images = _raw_images(base, indices).to(self.device)
        self.targets = base.targets[self.indices].to(self.device)
        self.augment = base.augment if self.train else None
        self.mixup = (KeyedMixUp(mixup, base.info.num_classes)
                      if self.train and mixup > 0 else None)
        c = base.info.in_channels
        self.mean = torch.tensor(base.info.mean, dtype=torch.float32,
                                 device=self.device).view(1, c, 1, 1)
        self.std = torch.tensor(base.info.std, dtype=torch.float32,
                                device=self.device).view(1, c, 1, 1)

    def set_epoch(self, epoch: int) -> None:
        """Select the order and the draws of ``epoch``."""
        self.epoch = int(epoch)

    def _positions(self) -> torch.Tensor:
        """This process's positions (into the held images) of the epoch, in order."""
        n = len(self.indices)
        if not self.train:
            return torch.arange(n)
        order = epoch_order(n, self.seed, self.epoch)
        if self.world > 1:
            total = math.ceil(n / self.world) * self.world
            order = torch.cat([order, order[: total - n]])[self.rank::self.world]
        return order

    def __len__(self) -> int:
        n = len(self.indices)
        if self.train and self.world > 1:
            n = math.ceil(n / self.world)
        return math.ceil(n / self.batch_size)

    def __iter__(self) -> Iterator[Tuple[torch.Tensor, torch.Tensor]]:
        positions = self._positions()
        draws = (self.augment.draw(self.base_size, self.seed, self.epoch)
                 if self.augment is not None else None)
        lams = (self.mixup.draw(len(self), self.seed, self.epoch, self.rank)
                if self.mixup is not None else None)
        for step, start in enumerate(range(0, len(positions), self.batch_size)):
            pos = positions[start:start + self.batch_size]
            on_device = pos.to(self.device)  # one host-to-device copy of the batch's positions
            x = self.images[on_device]
            x = x.to(torch.float32).div_(255.0) if x.dtype == torch.uint8 else x
            if draws is not None:
                rows = self.indices[pos]  # the base indices: their rows of the draws
                x = self.augment(x, draws.dy[rows], draws.dx[rows], draws.flip[rows])
            x = (x - self.mean) / self.std
            y = self.targets[on_device]
            if lams is not None:
                x, y = self.mixup(x, y, float(lams[step]))
            yield x, y

    def __repr__(self) -> str:
        return (f"ResidentLoader(size={len(self.indices)}, batch_size={self.batch_size}, "
                f"train={self.train}, device={self.device}, augment={self.augment!r}, "
                f"mixup={self.mixup!r})")
