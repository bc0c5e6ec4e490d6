"""``tiny-imagenet``: the folder layout of the official zip, listed by torchvision.

``<root>/tiny-imagenet-200/`` holds ``wnids.txt`` (the 200 classes, as wnids; the
classes are their sorted order), ``train/<wnid>/images/*.JPEG``, and
``val/images/*.JPEG`` labelled by ``val/val_annotations.txt`` (tab-separated: file
name, wnid, box); ``train=False`` gives that validation set. Missing, it is unpacked
from ``<root>/tiny-imagenet-200.zip``, else downloaded. Class folders are listed by
torchvision's ImageFolder machinery
(:func:`~torchvision.datasets.folder.make_dataset`); images are read lazily
(:class:`~snntorch_ms.data.ImageFileDataset`).
"""

from __future__ import annotations

from pathlib import Path

from ..datasets import ImageFileDataset
from ..download import download_archive
from ..registry import DatasetNotFoundError, dataset_info

__all__ = ["load_tiny"]

_TINY_URL = "http://cs231n.stanford.edu/tiny-imagenet-200.zip"
_TINY_MD5 = "90528d7ca1a48142e341f4ef8d21d0de"


def _tiny_layout(root: Path) -> str:
    return (
        f"tiny-imagenet not found: expected {root / 'tiny-imagenet-200'}/ with wnids.txt, "
        "train/<wnid>/images/*.JPEG, val/images/*.JPEG and val/val_annotations.txt "
        "(tab-separated: file name, wnid, box), i.e. the unzipped official archive "
        f"{_TINY_URL} (or that zip in {root}/)."
    )


def _class_folders(folder: Path, index: dict, what: str) -> list:
    """``(path, label)`` of the images under ``folder/<wnid>/`` (any depth), by
    torchvision's :func:`~torchvision.datasets.folder.make_dataset` (ImageFolder's)."""
    from torchvision.datasets.folder import IMG_EXTENSIONS, make_dataset

    try:
        return make_dataset(str(folder), index, extensions=IMG_EXTENSIONS)
    except FileNotFoundError as err:  # a wnid without images
        raise DatasetNotFoundError(f"{what}\n{folder}: {err}") from err


def load_tiny(root: Path, train: bool, download: bool, augment=None) -> ImageFileDataset:
    """Tiny-ImageNet's training or validation set from ``root`` (called by
    :func:`~snntorch_ms.data.load_dataset`).

    :param root: the data folder (``<root>/tiny-imagenet-200/``).
    :type root: pathlib.Path
    :param train: the training set (100,000 images) if true, else the validation
        set (10,000).
    :type train: bool
    :param download: download the missing zip (only when the host answers).
    :type download: bool
    :param augment: see :class:`~snntorch_ms.data.ImageDataset`. Defaults to None.
    :type augment: callable, optional
    :rtype: ~snntorch_ms.data.ImageFileDataset
    :raises DatasetNotFoundError: missing, incomplete or not downloadable; says what
        to put where.

    Example::

        >>> try:
        ...     load_tiny(Path("/nonexistent"), train=True, download=False)
        ... except DatasetNotFoundError as err:
        ...     print("val_annotations.txt" in str(err))
        True
    """
    base = root / "tiny-imagenet-200"
    what = _tiny_layout(root)
    zip_path = root / "tiny-imagenet-200.zip"

    def present():
        return (base / "wnids.txt").is_file() and (base / ("train" if train else "val")).is_dir()

    if not present() and zip_path.is_file():
        import zipfile

        from torchvision.datasets.utils import extract_archive

        try:
            extract_archive(str(zip_path), str(root))
        except (OSError, zipfile.BadZipFile) as err:
            raise DatasetNotFoundError(f"{what}\n{zip_path} could not be extracted: {err}") from err
    if not present():
        if not download:
            raise DatasetNotFoundError(what)
        download_archive(_TINY_URL, root, zip_path.name, _TINY_MD5, what)
        if not present():
            raise DatasetNotFoundError(f"{what}\nStill incomplete after download.")

    wnids = sorted({w.strip() for w in (base / "wnids.txt").read_text().split() if w.strip()})
    index = {w: i for i, w in enumerate(wnids)}
    samples = []
    if train:
        samples = _class_folders(base / "train", index, what)
    else:
        ann = base / "val" / "val_annotations.txt"
        if ann.is_file():
            for line in ann.read_text().splitlines():
                parts = line.split("\t")
                if len(parts) < 2 or not parts[0].strip():
                    continue
                fname, w = parts[0].strip(), parts[1].strip()
                if w not in index:
                    raise DatasetNotFoundError(f"{ann}: wnid {w!r} of {fname} is not in wnids.txt")
                path = base / "val" / "images" / fname
                if not path.is_file():
                    raise DatasetNotFoundError(f"{what}\nMissing validation image {path}.")
                samples.append((str(path), index[w]))
        else:  # val re-sorted into val/<wnid>/(images/) folders by some scripts
            samples = _class_folders(base / "val", index, what)
    if not samples:
        raise DatasetNotFoundError(f"{what}\nNo images found under {base / ('train' if train else 'val')}.")
    return ImageFileDataset(samples, dataset_info("tiny-imagenet"), augment, classes=wnids)
