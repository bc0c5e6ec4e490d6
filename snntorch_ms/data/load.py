"""The entry point :func:`load_dataset`: a dataset's name and recipe to its source reader.

One reader per source, in :mod:`snntorch_ms.data.sources`: ``digits``
(scikit-learn), ``mnist`` (MNIST and Fashion-MNIST), ``cifar`` (CIFAR-10 and
CIFAR-100 pickles; CIFAR-10 image folders through ``cifar_images``) and ``tiny``
(Tiny-ImageNet); the recipe gives the training augmentation
(:func:`~snntorch_ms.data.train_augmentation`).
"""

from __future__ import annotations

import os
from pathlib import Path

from .augment import train_augmentation
from .datasets import ImageDataset
from .registry import PathLike, check_recipe, dataset_info
from .sources.cifar import load_cifar
from .sources.digits import load_digits
from .sources.mnist import load_mnist
from .sources.tiny import load_tiny

__all__ = ["load_dataset"]


def load_dataset(
    name: str,
    root: PathLike = "data",
    train: bool = True,
    recipe: str = "basic",
    download: bool = True,
) -> ImageDataset:
    """Load a dataset as ``(normalised float tensor [C, H, W], int label)`` pairs.

    Where each dataset is looked for (``root`` is created when needed):

    * ``digits``: scikit-learn's bundled copy (no files, ``root`` unused). The 8x8
      images (values 0..16) are scaled to [0, 1] and upsampled **bilinearly**
      (``align_corners=False``) to 16x16, so feature maps stay >= 2x2 for windows
      through three 2x downsamplings. Split: stratified 80/20 with a fixed seed,
      1438 training and 359 test images, the same on every machine.
    * ``mnist``: ``<root>/MNIST/raw/`` (torchvision layout), else downloaded.
    * ``fashion-mnist``: ``<root>/FashionMNIST/raw/`` (plain or ``.gz`` IDX files),
      else the Debian package ``dataset-fashion-mnist``
      (``/usr/share/datasets/fashion-mnist/*.gz``, gunzipped into ``<root>``),
      else downloaded by torchvision.
    * ``cifar10`` from image files: ``root`` is a folder with ``train/<class>/`` and
      ``test/<class>/`` image folders (CIFAR-10's ten class names), or such a folder
      packed as ``.tar.gz`` and read in place; decoded once into a cache keyed by the
      source's SHA-256 (``$SNNTORCH_MS_CACHE``, else ``~/.cache/snntorch-ms``; see
      :func:`~snntorch_ms.data.dataset_source`).
    * ``cifar10`` / ``cifar100``: ``<root>/cifar-10-batches-py/`` /
      ``<root>/cifar-100-python/`` (the python pickles, read directly: files in the
      right format load without torchvision's md5 check), else the archive
      ``cifar-10-python.tar.gz`` / ``cifar-100-python.tar.gz`` in ``<root>``, else
      downloaded.
    * ``tiny-imagenet``: ``<root>/tiny-imagenet-200/`` (the official zip's layout;
      classes are the sorted wnids of ``wnids.txt``; ``train=False`` gives the
      validation set with labels from ``val/val_annotations.txt``), else
      ``<root>/tiny-imagenet-200.zip``, else downloaded.

    :param name: one of :data:`~snntorch_ms.data.DATASETS` (see
        :func:`~snntorch_ms.data.dataset_info` for aliases).
    :type name: str
    :param root: data folder (created only when something is written into it).
        Defaults to ``"data"``.
    :type root: str or os.PathLike, optional
    :param train: training split if true, else test (validation) split. Defaults
        to True.
    :type train: bool, optional
    :param recipe: ``"basic"`` (normalise) or ``"paper"`` (crop and flip for the
        training split, see :func:`~snntorch_ms.data.train_augmentation`). Defaults to ``"basic"``.
    :type recipe: str, optional
    :param download: download a missing dataset (only when the host answers).
        Defaults to True.
    :type download: bool, optional
    :rtype: ImageDataset
    :raises ValueError: unknown name or recipe.
    :raises DatasetNotFoundError: missing and not downloadable; says what to put where.

    Example::

        >>> train = load_dataset("digits", train=True)
        >>> test = load_dataset("digits", train=False)
        >>> len(train), len(test)
        (1438, 359)
        >>> x, y = train[0]
        >>> x.shape, x.dtype, type(y)
        (torch.Size([1, 16, 16]), torch.float32, <class 'int'>)
        >>> cifar = load_dataset("cifar10", root="data", recipe="paper")  # doctest: +SKIP
    """
    name = dataset_info(name).name
    check_recipe(recipe)
    augment = train_augmentation(name, recipe) if train else None
    if name == "digits":
        return load_digits(train, augment)
    root = Path(os.path.expanduser(os.fspath(root)))  # created only when files are written
    if name in ("mnist", "fashion-mnist"):
        return load_mnist(name, root, train, download, augment)
    if name in ("cifar10", "cifar100"):
        return load_cifar(name, root, train, download, augment)
    return load_tiny(root, train, download, augment)
