"""The names of the datasets, the static facts of each, and the dataset errors.

The bottom of :mod:`snntorch_ms.data`: it imports nothing of the data package, and
every other module of the package imports it. Names are case-insensitive, ``_`` and
``-`` are interchangeable, and a few aliases are accepted (``"fmnist"``,
``"cifar-10"``, ``"tiny-imagenet-200"``); :func:`dataset_info` gives a name's
canonical spelling as ``dataset_info(name).name``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Union

from ..errors import UserError

__all__ = [
    "DATASETS",
    "RECIPES",
    "DatasetInfo",
    "dataset_info",
    "DatasetNotFoundError",
    "DatasetCorruptError",
]

#: Names accepted by :func:`~snntorch_ms.data.load_dataset` and :func:`dataset_info`.
DATASETS = ("digits", "mnist", "fashion-mnist", "cifar10", "cifar100", "tiny-imagenet")

#: Names accepted by the ``recipe`` argument of :func:`~snntorch_ms.data.load_dataset`.
RECIPES = ("basic", "paper")

_ALIASES = {
    "fashion": "fashion-mnist",
    "fashionmnist": "fashion-mnist",
    "fmnist": "fashion-mnist",
    "cifar-10": "cifar10",
    "cifar-100": "cifar100",
    "tinyimagenet": "tiny-imagenet",
    "tiny-imagenet-200": "tiny-imagenet",
}

PathLike = Union[str, "os.PathLike[str]"]


@dataclass(frozen=True)
class DatasetInfo:
    """Static facts about a dataset, enough to build a model for it.

    :param name: canonical name, one of :data:`DATASETS`.
    :type name: str
    :param num_classes: number of classes.
    :type num_classes: int
    :param in_channels: image channels (1 for grey, 3 for RGB).
    :type in_channels: int
    :param image_size: height = width of the images the loader returns.
    :type image_size: int
    :param mean: per-channel mean used for normalisation (pixels scaled to [0, 1]).
    :type mean: tuple(float, ...)
    :param std: per-channel standard deviation used for normalisation.
    :type std: tuple(float, ...)

    Example::

        >>> info = dataset_info("cifar10")
        >>> info.num_classes, info.in_channels, info.image_size
        (10, 3, 32)
    """

    name: str
    num_classes: int
    in_channels: int
    image_size: int
    mean: tuple
    std: tuple


_INFO = {
    # digits: mean/std of the 1438 training images after scaling to [0, 1] and
    # bilinear upsampling to 16x16 (tests check these numbers).
    "digits": DatasetInfo("digits", 10, 1, 16, (0.3058,), (0.3194,)),
    "mnist": DatasetInfo("mnist", 10, 1, 28, (0.1307,), (0.3081,)),
    "fashion-mnist": DatasetInfo("fashion-mnist", 10, 1, 28, (0.2860,), (0.3530,)),
    "cifar10": DatasetInfo(
        "cifar10", 10, 3, 32, (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)
    ),
    "cifar100": DatasetInfo(
        "cifar100", 100, 3, 32, (0.5071, 0.4865, 0.4409), (0.2673, 0.2564, 0.2762)
    ),
    "tiny-imagenet": DatasetInfo(
        "tiny-imagenet", 200, 3, 64, (0.4802, 0.4481, 0.3975), (0.2770, 0.2691, 0.2821)
    ),
}


def dataset_info(name: str) -> DatasetInfo:
    """Return the :class:`DatasetInfo` of dataset ``name``.

    Names are case-insensitive; ``_`` and ``-`` are interchangeable, and a few
    aliases are accepted (``"fmnist"``, ``"cifar-10"``, ``"tiny-imagenet-200"``).

    :param name: one of :data:`DATASETS`, or an alias.
    :type name: str
    :rtype: DatasetInfo
    :raises ValueError: for an unknown name (the message lists the known ones).

    Example::

        >>> dataset_info("digits").image_size
        16
        >>> dataset_info("tiny_imagenet").num_classes
        200
    """
    key = str(name).strip().lower().replace("_", "-")
    key = _ALIASES.get(key, key)
    if key not in _INFO:
        raise ValueError(
            f"unknown dataset {name!r}; known datasets: {', '.join(DATASETS)}"
        )
    return _INFO[key]


def check_recipe(recipe: str) -> None:
    """Raise :class:`ValueError` naming the known recipes unless ``recipe`` is one."""
    if recipe not in RECIPES:
        raise ValueError(f"unknown recipe {recipe!r}; known recipes: {', '.join(RECIPES)}")


class DatasetNotFoundError(UserError, FileNotFoundError):
    """A dataset is missing locally and could not be downloaded.

    A :class:`~snntorch_ms.errors.UserError` and a :class:`FileNotFoundError`; the
    message names the files or folders to put where, and the address to fetch them
    from.

    Example::

        >>> from snntorch_ms.data import load_dataset
        >>> try:
        ...     load_dataset("cifar10", root="/nonexistent", download=False)
        ... except DatasetNotFoundError as err:
        ...     print("cifar-10-batches-py" in str(err))
        True
    """


class DatasetCorruptError(DatasetNotFoundError):
    """A dataset file is present but unusable (truncated, wrong format).

    A subclass of :class:`~snntorch_ms.data.DatasetNotFoundError`, since either way
    the dataset cannot be used from where it was looked for; the message names the
    file, what was expected of it and how to replace it.

    Example::

        >>> issubclass(DatasetCorruptError, DatasetNotFoundError)
        True
    """
