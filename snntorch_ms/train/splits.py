"""The run's data: its training, validation and test splits (subsets applied,
the validation images held out of training) and the loaders that hold them on the
run's device."""

from __future__ import annotations

from typing import List

import torch
from torch.utils.data import Subset

from .. import data as data_mod
from . import runtime
from .config import TrainConfig, resolve_config  # noqa: F401 (the examples use it)

__all__ = ["load_sets", "load_validation"]


def load_sets(c: TrainConfig, train: bool = True):
    """``(train set or None, test set)`` of a resolved config, subsets applied.

    The test subset does not depend on the seed, so runs with different seeds are
    scored on the same images.

    Example::

        >>> _, test = load_sets(resolve_config(TrainConfig(limit_test=20)), train=False)
        >>> len(test)
        20
    """
    train_set = None
    if train:
        train_set = data_mod.load_dataset(c.dataset, root=c.data_dir, train=True,
                                          recipe=c.recipe, download=c.download)
        if c.val_images:
            held_out = set(_validation_indices(c))
            train_set = Subset(train_set, [i for i in range(len(train_set))
                                           if i not in held_out])
        train_set = data_mod.subset(train_set, c.limit_train, seed=c.seed)
    test_set = data_mod.load_dataset(c.dataset, root=c.data_dir, train=False,
                                     recipe=c.recipe, download=c.download)
    test_set = data_mod.subset(test_set, c.limit_test, seed=0)
    return train_set, test_set


#: Seed of the validation draw: the same images for every run seed and configuration.
VAL_SEED = 0x7A1


def _validation_indices(c: TrainConfig) -> List[int]:
    full = data_mod.load_dataset(c.dataset, root=c.data_dir, train=True, recipe="basic",
                                 download=c.download)
    return list(data_mod.subset(full, c.val_images, seed=VAL_SEED).indices)


def load_validation(c: TrainConfig):
    r"""The validation split of a resolved config (``val_images`` training images,
    class-balanced, drawn with a fixed seed, without augmentation), or None.

    :func:`load_sets` leaves these images out of the training set:

    .. math::

        V = \mathrm{subset}(D_{\rm train}, n_{\rm val}; s_0), \qquad
        T = \mathrm{subset}(D_{\rm train} \setminus V, n_{\rm train}; \text{seed})

    Example::

        >>> len(load_validation(resolve_config(TrainConfig(val_images=30))))
        30
    """
    if not c.val_images:
        return None
    full = data_mod.load_dataset(c.dataset, root=c.data_dir, train=True, recipe="basic",
                                 download=c.download)
    return Subset(full, _validation_indices(c))


def _shard(dataset, dist_info: runtime.Dist):
    if dist_info.world <= 1:
        return dataset
    from torch.utils.data import Subset

    return Subset(dataset, list(range(dist_info.rank, len(dataset), dist_info.world)))


def _loaders(c: TrainConfig, device: torch.device, dist_info: runtime.Dist):
    """Every split held on ``device``, its batches made there
    (:class:`~snntorch_ms.data.ResidentLoader`); the same numbers on the CPU and a GPU."""
    train_set, test_set = load_sets(c)
    train_loader = data_mod.ResidentLoader(train_set, c.batch_size, train=True, seed=c.seed,
                                           device=device, mixup=c.mixup,
                                           rank=dist_info.rank, world=dist_info.world)
    test_loader = data_mod.ResidentLoader(_shard(test_set, dist_info), c.batch_size,
                                          train=False, device=device)
    val_set = load_validation(c)
    val_loader = None if val_set is None else data_mod.ResidentLoader(
        _shard(val_set, dist_info), c.batch_size, train=False, device=device)
    return train_set, test_set, train_loader, test_loader, val_loader
