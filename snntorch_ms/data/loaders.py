"""Subsets and data loaders whose order is a function of ``(seed, epoch)``.

:func:`make_loader` shuffles with :class:`EpochSampler`, a permutation drawn from
``mix(seed, epoch)`` (:mod:`snntorch_ms.data.seeding`); the datasets' augmentation is
keyed by ``(seed, epoch, index)``. Call :func:`set_epoch` at the start of every
epoch (as with :class:`~torch.utils.data.distributed.DistributedSampler`); a run
resumed at epoch ``e`` then sees exactly the batches it would have seen.
:func:`subset` draws deterministic, class-balanced subsets; :func:`dataset_source`
says what a dataset was read from, through subsets and loaders.
"""

from __future__ import annotations

from typing import Iterator, Optional

import torch
from torch.utils.data import DataLoader, Dataset, Sampler, Subset

from .datasets import ImageDataset
from .seeding import epoch_order, mix

__all__ = ["subset", "EpochSampler", "make_loader", "set_epoch", "dataset_source"]


def _targets(dataset) -> Optional[torch.Tensor]:
    if isinstance(dataset, Subset):
        inner = _targets(dataset.dataset)
        return None if inner is None else inner[torch.as_tensor(dataset.indices, dtype=torch.long)]
    t = getattr(dataset, "targets", None)
    if t is None:
        return None
    t = torch.as_tensor(t)
    return t if t.dim() == 1 and len(t) == len(dataset) else None


def subset(dataset: Dataset, n: Optional[int], seed: int = 0, balanced: bool = True) -> Dataset:
    """A deterministic subset of ``n`` samples (for ``--limit-train`` and quick runs).

    With ``balanced=True`` and labels available (a ``targets`` attribute, also
    through :class:`~torch.utils.data.Subset`), every class gets ``n // K`` or one
    more sample while it has them; otherwise the subset is a random draw. The
    choice depends only on ``(seed, n)`` and the dataset. Indices keep the
    dataset's order.

    :param dataset: any map-style dataset.
    :type dataset: torch.utils.data.Dataset
    :param n: number of samples; ``None`` or ``n >= len(dataset)`` returns
        ``dataset`` itself.
    :type n: int or None
    :param seed: seed of the draw. Defaults to 0.
    :type seed: int, optional
    :param balanced: balance the classes when labels are known. Defaults to True.
    :type balanced: bool, optional
    :returns: a :class:`~torch.utils.data.Subset` (or ``dataset``).
    :rtype: torch.utils.data.Dataset
    :raises ValueError: if ``n`` is not positive.

    Example::

        >>> from snntorch_ms.data import load_dataset
        >>> ds = load_dataset("digits")
        >>> small = subset(ds, 100, seed=0)
        >>> len(small)
        100
        >>> torch.bincount(torch.tensor([y for _, y in small])).tolist()
        [10, 10, 10, 10, 10, 10, 10, 10, 10, 10]
    """
    size = len(dataset)
    if n is None or n >= size:
        return dataset
    if n <= 0:
        raise ValueError(f"n must be positive, got {n}")
    g = torch.Generator().manual_seed(int(seed))
    perm = torch.randperm(size, generator=g)
    targets = _targets(dataset) if balanced else None
    if targets is None:
        chosen = perm[:n]
    else:
        labels = targets[perm].long()
        labels = labels - labels.min()
        order = torch.sort(labels, stable=True).indices  # groups classes, keeps perm order
        sorted_labels = labels[order]
        starts = torch.searchsorted(sorted_labels, sorted_labels, right=False)
        rank = torch.empty_like(labels)
        rank[order] = torch.arange(size) - starts
        key = rank * (int(labels.max()) + 1) + labels
        chosen = perm[torch.sort(key, stable=True).indices[:n]]
    return Subset(dataset, sorted(chosen.tolist()))


class EpochSampler(Sampler[int]):
    """Shuffle ``range(n)`` with a permutation that depends only on ``(seed, epoch)``.

    The non-distributed twin of :class:`~torch.utils.data.distributed.DistributedSampler`:
    call :meth:`set_epoch` before each epoch. ``shuffle=False`` yields ``0..n-1``.

    Example::

        >>> s = EpochSampler(5, seed=1)
        >>> a = list(s); s.set_epoch(1); b = list(s); s.set_epoch(0)
        >>> list(s) == a != b and sorted(a) == [0, 1, 2, 3, 4]
        True

    :param n: dataset size.
    :type n: int
    :param seed: seed of the permutations. Defaults to 0.
    :type seed: int, optional
    :param shuffle: shuffle; False keeps ``0..n-1``. Defaults to True.
    :type shuffle: bool, optional
    """

    def __init__(self, n: int, seed: int = 0, shuffle: bool = True) -> None:
        self.n = int(n)
        self.seed = int(seed)
        self.shuffle = shuffle
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Select the permutation of ``epoch``.

        :param epoch: the epoch number.
        :type epoch: int
        """
        self.epoch = int(epoch)

    def __iter__(self) -> Iterator[int]:
        if not self.shuffle:
            return iter(range(self.n))
        return iter(epoch_order(self.n, self.seed, self.epoch).tolist())

    def __len__(self) -> int:
        return self.n


def make_loader(
    dataset: Dataset,
    batch_size: int,
    train: bool,
    seed: int = 0,
    num_workers: int = 0,
    distributed: bool = False,
    drop_last: bool = False,
    pin_memory: bool = False,
) -> DataLoader:
    """A :class:`~torch.utils.data.DataLoader` whose randomness is a function of ``seed``.

    * Order: training loaders shuffle with :class:`EpochSampler` (or, with
      ``distributed=True``, a :class:`~torch.utils.data.distributed.DistributedSampler`
      with ``seed``; it needs an initialised process group and pads the last
      batch by repeating samples); evaluation loaders keep the dataset order.
    * Augmentation of :class:`ImageDataset` s (also inside a
      :class:`~torch.utils.data.Subset`) is keyed by ``(seed, epoch, index)``, so
      it does not depend on ``num_workers`` or the process.
    * The loader's ``generator`` is seeded too (it seeds the workers, for any
      randomness of your own inside them).

    Call :func:`set_epoch` with the epoch number before iterating each epoch; the
    batches of epoch ``e`` are then the same in a fresh run and in a run resumed at
    ``e`` (save the epoch in the checkpoint, nothing else). Workers are not
    persistent, so the epoch reaches them.

    :param dataset: a map-style dataset.
    :type dataset: torch.utils.data.Dataset
    :param batch_size: samples per batch.
    :type batch_size: int
    :param train: shuffle (and augment, if the dataset was loaded with a recipe).
    :type train: bool
    :param seed: seed of order, augmentation and worker seeds. Defaults to 0.
    :type seed: int, optional
    :param num_workers: worker processes (0: load in the main process). Defaults to 0.
    :type num_workers: int, optional
    :param distributed: split the data across ``torch.distributed`` ranks.
        Defaults to False.
    :type distributed: bool, optional
    :param drop_last: drop the last incomplete batch. Defaults to False.
    :type drop_last: bool, optional
    :param pin_memory: pin batches for faster host-to-GPU copies. Defaults to False.
    :type pin_memory: bool, optional
    :rtype: torch.utils.data.DataLoader

    Example::

        >>> from snntorch_ms.data import load_dataset
        >>> ds = load_dataset("digits", recipe="paper")
        >>> loader = make_loader(ds, batch_size=64, train=True, seed=0)
        >>> set_epoch(loader, 0)
        >>> x, y = next(iter(loader))
        >>> x.shape, y.shape
        (torch.Size([64, 1, 16, 16]), torch.Size([64]))
    """
    if distributed:
        from torch.utils.data.distributed import DistributedSampler

        sampler = DistributedSampler(dataset, shuffle=train, seed=int(seed), drop_last=drop_last)
    else:
        sampler = EpochSampler(len(dataset), seed=seed, shuffle=train)
    generator = torch.Generator().manual_seed(int(seed))
    for ds in _image_datasets(dataset):
        ds.set_epoch(0, seed=seed)
    loader = DataLoader(
        dataset,
        batch_size=batch_size,
        sampler=sampler,
        num_workers=num_workers,
        drop_last=drop_last,
        pin_memory=pin_memory,
        generator=generator,
        persistent_workers=False,
    )
    loader.seed = int(seed)
    return loader


def _image_datasets(dataset) -> list:
    """The :class:`ImageDataset` s inside ``dataset`` (through Subset and ConcatDataset)."""
    found, stack = [], [dataset]
    while stack:
        ds = stack.pop()
        if isinstance(ds, ImageDataset):
            found.append(ds)
        elif isinstance(ds, Subset):
            stack.append(ds.dataset)
        elif hasattr(ds, "datasets"):
            stack.extend(ds.datasets)
    return found


def dataset_source(dataset) -> Optional[dict]:
    """What a dataset was read from, where that identifies the data beyond its name:
    ``{"path", "kind", "sha256", "name"}`` for CIFAR-10 read from image files, else
    None. Subsets and loaders are looked through.

    The training loop records it in ``metrics.json`` and refuses to resume a run on
    another source.

    Example::

        >>> from snntorch_ms.data import load_dataset
        >>> dataset_source(load_dataset("digits")) is None
        True
    """
    if isinstance(dataset, DataLoader):
        dataset = dataset.dataset
    for ds in _image_datasets(dataset):
        source = getattr(ds, "source", None)
        if source is not None:
            return dict(source)
    return None


def set_epoch(loader: DataLoader, epoch: int) -> None:
    """Prepare ``loader`` for epoch ``epoch``: shuffle order, augmentation and worker seeds.

    Call it before iterating each epoch (``0, 1, 2, ...``). Works on loaders made
    by :func:`make_loader`; on other loaders it sets what it finds (a sampler's
    ``set_epoch``, the datasets' augmentation epoch).

    :param loader: the data loader.
    :type loader: torch.utils.data.DataLoader
    :param epoch: the epoch number.
    :type epoch: int

    Example::

        >>> from snntorch_ms.data import load_dataset
        >>> loader = make_loader(load_dataset("digits"), 32, train=True, seed=3)
        >>> set_epoch(loader, 0); a = next(iter(loader))[1]
        >>> set_epoch(loader, 0); b = next(iter(loader))[1]
        >>> torch.equal(a, b)
        True
    """
    epoch = int(epoch)
    if not isinstance(loader, DataLoader) and hasattr(loader, "set_epoch"):
        loader.set_epoch(epoch)  # a ResidentLoader draws everything from (seed, epoch)
        return
    sampler = loader.sampler
    if hasattr(sampler, "set_epoch"):
        sampler.set_epoch(epoch)
    batch_sampler = getattr(loader, "batch_sampler", None)
    inner = getattr(batch_sampler, "sampler", None)
    if inner is not None and inner is not sampler and hasattr(inner, "set_epoch"):
        inner.set_epoch(epoch)
    seed = getattr(loader, "seed", None)
    for ds in _image_datasets(loader.dataset):
        ds.set_epoch(epoch, seed=seed)
    if seed is not None and loader.generator is not None:
        loader.generator.manual_seed(mix(seed, epoch, 1) >> 1)
