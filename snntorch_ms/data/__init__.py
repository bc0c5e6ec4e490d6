"""Datasets, augmentation and reproducible data loaders.

Every loader returns a :class:`torch.utils.data.Dataset` of ``(image, label)``
pairs: ``image`` is a normalised float tensor ``[C, H, W]`` and ``label`` a
Python ``int``. Supported names (:data:`DATASETS`):

============== ======= ===== ========== ===============================================
name           classes shape train/test source
============== ======= ===== ========== ===============================================
digits         10      1x16² 1438/359   scikit-learn's bundled ``load_digits``; no download
mnist          10      1x28² 60k/10k    torchvision (downloads when online)
fashion-mnist  10      1x28² 60k/10k    ``<root>/FashionMNIST/raw/``, Debian's
                                        ``dataset-fashion-mnist`` package, or torchvision
cifar10        10      3x32² 50k/10k    ``<root>/cifar-10-batches-py/`` (torchvision downloads),
                                        or ``train/``, ``test/`` image folders (or their
                                        ``.tar.gz``) as ``<root>``
cifar100       100     3x32² 50k/10k    ``<root>/cifar-100-python/`` (torchvision downloads)
tiny-imagenet  200     3x64² 100k/10k   ``<root>/tiny-imagenet-200/`` (the official zip)
============== ======= ===== ========== ===============================================

When a dataset is missing and cannot be downloaded (no network, or
``download=False``), :class:`DatasetNotFoundError` says which files to put where.
Downloads first check that the host answers within a few seconds, and run with a
socket timeout, so an offline machine fails in well under a second instead of
hanging.

Recipes (``recipe=``):

* ``"basic"``: normalise only (per-channel mean and std of the training set).
* ``"paper"``: for training sets, the augmentation of Yao et al. (ACML 2023):
  random crop with zero padding (4 pixels for CIFAR and Tiny-ImageNet, 2 for the
  grey 16/28-pixel sets) and a random horizontal flip (not for digits and MNIST,
  whose classes are not mirror-symmetric). Test sets are never augmented. Mixup
  (:class:`KeyedMixUp`) is applied to batches by :class:`ResidentLoader`.

The transforms are tensor operations on batches (torchvision's crop with zero
padding and horizontal flip, and mixup with the previous image, as indexing and
arithmetic), on whatever device holds the batch.

The package has one module per concept; the names in ``__all__`` are importable
from ``snntorch_ms.data`` itself, whichever module holds them:

============================================= ==============================================================
module                                        holds
============================================= ==============================================================
:mod:`~snntorch_ms.data.registry`             names, :class:`DatasetInfo`, the dataset errors
:mod:`~snntorch_ms.data.seeding`              keyed randomness: ``mix(seed, epoch, ...)``, :func:`keyed_rng`
:mod:`~snntorch_ms.data.augment`              crop, flip and mixup as tensor operations
:mod:`~snntorch_ms.data.datasets`             the dataset classes
:mod:`~snntorch_ms.data.download`             downloads that fail fast offline
:mod:`~snntorch_ms.data.sources.digits`       scikit-learn's digits
:mod:`~snntorch_ms.data.sources.mnist`        MNIST and Fashion-MNIST (torchvision's reader)
:mod:`~snntorch_ms.data.sources.cifar`        CIFAR-10 and CIFAR-100 pickles
:mod:`~snntorch_ms.data.sources.cifar_images` CIFAR-10 from image folders or their archives
:mod:`~snntorch_ms.data.sources.tiny`         Tiny-ImageNet
:mod:`~snntorch_ms.data.load`                 :func:`load_dataset`: a name to its source reader
:mod:`~snntorch_ms.data.loaders`              subsets, the sampler, loaders, :func:`set_epoch`
:mod:`~snntorch_ms.data.resident`             :class:`ResidentLoader`: a dataset on the device, batches made there
============================================= ==============================================================

Reproducibility: the random crop and flip of an image are row ``index`` of its
epoch's draws, made on the CPU from ``(seed, epoch)``, never from a global random
state, so they are identical with any number of workers, in any process, on any
device (for one numpy version). Loaders made by :func:`make_loader` and
:class:`ResidentLoader` shuffle with the same permutation of ``(seed, epoch)``. Call
:func:`set_epoch` at the start of every epoch (as with
:class:`~torch.utils.data.distributed.DistributedSampler`); a run resumed at epoch
``e`` then sees exactly the batches it would have seen.
"""

from __future__ import annotations

from .augment import KeyedMixUp, RandomCropFlip, train_augmentation
from .datasets import ImageDataset, ImageFileDataset, TensorImageDataset
from .load import load_dataset
from .loaders import EpochSampler, dataset_source, make_loader, set_epoch, subset
from .resident import ResidentLoader
from .registry import (
    DATASETS,
    RECIPES,
    DatasetCorruptError,
    DatasetInfo,
    DatasetNotFoundError,
    dataset_info,
)
from .seeding import keyed_rng

__all__ = [
    "DATASETS",
    "RECIPES",
    "DatasetInfo",
    "DatasetNotFoundError",
    "DatasetCorruptError",
    "ImageDataset",
    "TensorImageDataset",
    "ImageFileDataset",
    "RandomCropFlip",
    "KeyedMixUp",
    "keyed_rng",
    "EpochSampler",
    "dataset_info",
    "load_dataset",
    "train_augmentation",
    "subset",
    "make_loader",
    "ResidentLoader",
    "set_epoch",
    "dataset_source",
]
