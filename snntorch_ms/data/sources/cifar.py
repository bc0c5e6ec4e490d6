"""``cifar10`` and ``cifar100``: torchvision's layout and download, read by format.

The python pickles are looked for where torchvision puts them,
``<root>/cifar-10-batches-py/`` and ``<root>/cifar-100-python/``, else unpacked from
the archive ``cifar-10-python.tar.gz`` / ``cifar-100-python.tar.gz`` in ``<root>``,
else downloaded by torchvision (its URL and checksum of the archive). CIFAR-10 may
also come from image files (:mod:`snntorch_ms.data.sources.cifar_images`): when
``root`` is a folder with ``train/`` and ``test/`` class folders, or such a folder
packed as ``.tar.gz``.

The pickles are read here rather than by :class:`~torchvision.datasets.CIFAR10`,
whose reader refuses every file whose md5 is not the official one (a re-pickled or
self-written copy in the right format, as the tests write); the format is checked
instead, and a file that is not a CIFAR pickle, lacks a key or holds rows that are
not 3 x 32 x 32 bytes is a :class:`~snntorch_ms.data.DatasetCorruptError` naming it.
"""

from __future__ import annotations

import pickle
import tarfile
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from ..datasets import TensorImageDataset
from ..download import download_archive
from ..registry import DatasetCorruptError, DatasetNotFoundError, dataset_info
from .cifar_images import is_archive, is_image_folder, load_cifar10_images

__all__ = ["load_cifar"]


def _cifar_layout(name: str):
    """torchvision's CIFAR class: folder, file lists, meta file, URL, archive and its md5."""
    try:
        from torchvision import datasets as tvd
    except ImportError as err:  # pragma: no cover - torchvision is a 'train' extra
        raise ImportError(f"dataset {name!r} needs torchvision: pip install torchvision") from err
    return tvd.CIFAR10 if name == "cifar10" else tvd.CIFAR100


def _unpickle(path: Path, keys: Sequence[str]) -> dict:
    """A CIFAR pickle as a dict with str keys, or :class:`DatasetCorruptError`."""
    try:
        with open(path, "rb") as f:
            entry = pickle.load(f, encoding="latin1")
        entry = {k.decode("latin1") if isinstance(k, bytes) else k: v for k, v in entry.items()}
    except (OSError, EOFError, ValueError, TypeError, AttributeError, pickle.UnpicklingError) as err:
        raise DatasetCorruptError(
            f"{path} is corrupt: not a CIFAR pickle ({type(err).__name__}: {err}); "
            "replace it with the file of the official archive") from err
    missing = [k for k in keys if k not in entry]
    if missing:
        raise DatasetCorruptError(
            f"{path} is corrupt: its dict lacks {', '.join(map(repr, missing))}; "
            "replace it with the file of the official archive")
    return entry


def _load_cifar_images(root: Path, train: bool, augment) -> TensorImageDataset:
    """CIFAR-10 from an image folder or its ``.tar.gz`` (decoded once into a cache)."""
    data = load_cifar10_images(root)
    images, targets = data["train" if train else "test"]
    ds = TensorImageDataset(images, targets, dataset_info("cifar10"), augment,
                            classes=data["classes"])
    ds.source = data["source"]
    return ds


def _what(name: str, root: Path, layout) -> str:
    """What to put where: the first lines of every 'not found' message."""
    needed = [f for f, _ in layout.train_list + layout.test_list]
    return (
        f"{name} not found: put {layout.base_folder}/ ({', '.join(needed)}, "
        f"{layout.meta['filename']}) in {root}/, i.e. {root / layout.base_folder}/, or the "
        f"archive {layout.filename} in {root}/; get it from "
        f"https://www.cs.toronto.edu/~kriz/cifar.html ({layout.url})."
        + (" Or pass a folder with train/<class>/ and test/<class>/ image folders, or such a "
           "folder packed as .tar.gz, as the data folder." if name == "cifar10" else "")
    )


def _make_present(root: Path, download: bool, layout, what: str) -> None:
    """The pickles in ``root/<base folder>/``: as they are, from the archive in ``root``,
    or downloaded; else :class:`DatasetNotFoundError`."""
    folder, tarball = root / layout.base_folder, layout.filename

    def missing():
        return [f for f, _ in layout.train_list + layout.test_list if not (folder / f).is_file()]

    if missing() and (root / tarball).is_file():
        try:
            with tarfile.open(root / tarball) as tar:
                if hasattr(tarfile, "data_filter"):  # Python >= 3.12 (and security backports)
                    tar.extractall(root, filter="data")
                else:  # pragma: no cover
                    tar.extractall(root)
        except (OSError, tarfile.TarError, EOFError) as err:
            raise DatasetNotFoundError(f"{what}\n{root / tarball} could not be extracted: {err}") from err
    if missing():
        if not download:
            raise DatasetNotFoundError(f"{what}\nMissing: {', '.join(missing())}.")
        download_archive(layout.url, root, tarball, layout.tgz_md5, what)
        if missing():
            raise DatasetNotFoundError(f"{what}\nStill missing after download: {', '.join(missing())}.")


def load_cifar(name: str, root: Path, train: bool, download: bool,
               augment=None) -> TensorImageDataset:
    """CIFAR-10 or CIFAR-100 from ``root`` (called by :func:`~snntorch_ms.data.load_dataset`).

    :param name: ``"cifar10"`` or ``"cifar100"``.
    :type name: str
    :param root: the data folder; for CIFAR-10 also an image folder or its ``.tar.gz``.
    :type root: pathlib.Path
    :param train: the training split (50,000 images) if true, else the test split (10,000).
    :type train: bool
    :param download: download a missing archive (only when the host answers).
    :type download: bool
    :param augment: see :class:`~snntorch_ms.data.ImageDataset`. Defaults to None.
    :type augment: callable, optional
    :rtype: ~snntorch_ms.data.TensorImageDataset
    :raises DatasetNotFoundError: missing and not downloadable; says what to put where.
    :raises DatasetCorruptError: a file in the wrong format; names it.

    Example::

        >>> try:
        ...     load_cifar("cifar100", Path("/nonexistent"), train=True, download=False)
        ... except DatasetNotFoundError as err:
        ...     print(str(err).splitlines()[-1])
        Missing: train, test.
    """
    if name == "cifar10" and ((root.is_file() and is_archive(root)) or is_image_folder(root)):
        return _load_cifar_images(root, train, augment)
    layout = _cifar_layout(name)
    folder = root / layout.base_folder
    _make_present(root, download, layout, _what(name, root, layout))
    label_key = "labels" if name == "cifar10" else "fine_labels"
    files = layout.train_list if train else layout.test_list
    data, labels = [], []
    for fname, _md5 in files:
        entry = _unpickle(folder / fname, ("data", label_key))
        try:
            data.append(np.asarray(entry["data"], dtype=np.uint8).reshape(-1, 3, 32, 32))
        except ValueError as err:
            raise DatasetCorruptError(
                f"{folder / fname} is corrupt: its 'data' is not rows of 3 x 32 x 32 bytes "
                f"({err}); replace it with the file of the official archive") from err
        labels.extend(int(v) for v in entry[label_key])
    images = torch.from_numpy(np.concatenate(data))
    if len(labels) != len(images):
        raise DatasetCorruptError(
            f"{folder}: {len(images)} images but {len(labels)} labels in "
            f"{', '.join(f for f, _ in files)}")
    classes = None
    meta = folder / layout.meta["filename"]
    if meta.is_file():
        classes = [str(c) for c in _unpickle(meta, (layout.meta["key"],))[layout.meta["key"]]]
    return TensorImageDataset(images, torch.tensor(labels), dataset_info(name), augment,
                              classes=classes)
