"""``cifar10`` from image files: a ``train/<class>/``, ``test/<class>/`` folder or such a
folder packed as ``.tar.gz`` (read in place), decoded once into a cache.

:func:`~snntorch_ms.data.load_dataset` reads CIFAR-10 from here when its ``root`` is
such a folder or archive (:mod:`snntorch_ms.data.sources.cifar` decides); the
dataset it returns records the source (:func:`~snntorch_ms.data.dataset_source`).

Decoding tens of thousands of JPEG files takes tens of seconds, so no epoch (and no
second run) decodes them: the first load writes the decoded ``uint8`` arrays of both
splits to ``<cache>/cifar10-imagefolder-<sha256>.pt``, keyed by the source's SHA-256
(the archive file's, or for a folder a hash over every file's relative path and
bytes), written to a private temporary file and renamed into place under a file lock,
so two processes starting together decode once and never read half a file. The cache
folder is :func:`cache_dir` (``$SNNTORCH_MS_CACHE``, else
``$XDG_CACHE_HOME/snntorch-ms``, else ``~/.cache/snntorch-ms``); it is never inside
the data folder, which may be read-only.

Folders are listed by torchvision's ``ImageFolder`` machinery
(:func:`~torchvision.datasets.folder.find_classes`,
:func:`~torchvision.datasets.folder.make_dataset`) and images decoded as
ImageFolder's default loader does (PIL, converted to RGB), the same way for folders
and archives, so both give the same pixels.
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import os
import tarfile
import warnings
import zlib
from contextlib import contextmanager
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch

from ..download import publish_file
from ..registry import DatasetCorruptError, DatasetNotFoundError

__all__ = ["CIFAR10_CLASSES", "KNOWN_SOURCES", "cache_dir", "is_archive", "is_image_folder",
           "load_cifar10_images"]

#: CIFAR-10's classes in its label order (also their alphabetical order).
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                   "ship", "truck")

#: Sources this project has checked, by SHA-256: the name every number measured on
#: them carries.
KNOWN_SOURCES = {
    "45b041e867f5a40f79bfde38d3dd1fd511103d50068c1afecf6445e25234d4db":
        "CIFAR-10 (JPEG q75 copy)",
}

_SPLITS = ("train", "test")
_ARCHIVE_SUFFIXES = (".tar.gz", ".tgz")
#: Bumped when the cache's content or layout changes: old caches are then rebuilt.
_CACHE_FORMAT = 1
_CHUNK = 1 << 20


def cache_dir() -> Path:
    """The folder of decoded-dataset caches: ``$SNNTORCH_MS_CACHE``, else
    ``$XDG_CACHE_HOME/snntorch-ms``, else ``~/.cache/snntorch-ms``.

    Example::

        >>> import os
        >>> old = os.environ.get("SNNTORCH_MS_CACHE")
        >>> os.environ["SNNTORCH_MS_CACHE"] = "/tmp/ms-cache"
        >>> str(cache_dir())
        '/tmp/ms-cache'
        >>> _ = os.environ.pop("SNNTORCH_MS_CACHE") if old is None else os.environ.update(
        ...     SNNTORCH_MS_CACHE=old)
    """
    explicit = os.environ.get("SNNTORCH_MS_CACHE")
    if explicit:
        return Path(os.path.expanduser(explicit))
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "snntorch-ms"


def is_archive(path: Path) -> bool:
    """Whether ``path`` names a ``.tar.gz`` / ``.tgz`` file.

    Example::

        >>> is_archive(Path("cifar10-jpeg.tar.gz")), is_archive(Path("cifar10"))
        (True, False)
    """
    return path.name.endswith(_ARCHIVE_SUFFIXES)


def is_image_folder(path: Path) -> bool:
    """Whether ``path`` is a folder with ``train/`` and ``test/`` sub-folders.

    Example::

        >>> is_image_folder(Path("/nonexistent"))
        False
    """
    return all((path / split).is_dir() for split in _SPLITS)


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, as hex."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(_CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def _folder_files(root: Path) -> Dict[str, List[Tuple[str, str]]]:
    """``{split: [(class name, path), ...]}`` in ImageFolder's order, checked against
    CIFAR-10's class names."""
    from torchvision.datasets.folder import IMG_EXTENSIONS, find_classes, make_dataset

    out = {}
    for split in _SPLITS:
        folder = root / split
        try:
            classes, index = find_classes(str(folder))
        except FileNotFoundError as err:
            raise DatasetCorruptError(f"{folder}: {err}") from err
        _check_classes(folder, classes)
        try:
            samples = make_dataset(str(folder), index, extensions=IMG_EXTENSIONS)
        except FileNotFoundError as err:  # a class folder without images
            raise DatasetCorruptError(f"{folder}: {err}") from err
        out[split] = [(classes[label], path) for path, label in samples]
    return out


def _folder_sha256(files: Dict[str, List[Tuple[str, str]]], root: Path) -> str:
    h = hashlib.sha256()
    for split in _SPLITS:
        for _, path in files[split]:
            h.update(os.path.relpath(path, root).encode() + b"\0")
            h.update(file_sha256(Path(path)).encode())
    return h.hexdigest()


def _check_classes(where, classes) -> None:
    found = sorted(classes)
    if found != list(CIFAR10_CLASSES):
        missing = sorted(set(CIFAR10_CLASSES) - set(found))
        extra = sorted(set(found) - set(CIFAR10_CLASSES))
        raise DatasetCorruptError(
            f"{where}: the class folders are not CIFAR-10's ten "
            f"({', '.join(CIFAR10_CLASSES)})"
            + (f"; missing: {', '.join(missing)}" if missing else "")
            + (f"; unexpected: {', '.join(extra)}" if extra else ""))


def _check_counts(where, split: str, labels: List[int]) -> None:
    counts = [labels.count(k) for k in range(len(CIFAR10_CLASSES))]
    if len(set(counts)) > 1:
        listing = ", ".join(f"{c} {n}" for c, n in zip(CIFAR10_CLASSES, counts))
        raise DatasetCorruptError(
            f"{where}: the {split} split has unequal image counts per class ({listing}); "
            "CIFAR-10 has the same number in every class: an image is missing or extra")


def _decode(data: bytes, name: str) -> torch.Tensor:
    """``uint8 [3, 32, 32]`` of one encoded image: ImageFolder's loader steps (PIL,
    ``convert("RGB")``) on bytes, so folders and archives decode alike."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as img:
            arr = np.asarray(img.convert("RGB"), dtype=np.uint8)
    except (OSError, ValueError, SyntaxError) as err:  # PIL's errors for bad image data
        raise DatasetCorruptError(f"{name}: not a decodable image ({err})") from err
    if arr.shape != (32, 32, 3):
        raise DatasetCorruptError(
            f"{name}: a {arr.shape[1]}x{arr.shape[0]} image; CIFAR-10 images are 32x32")
    return torch.from_numpy(arr.copy()).permute(2, 0, 1).contiguous()


def _stack(split_items: List[Tuple[int, torch.Tensor]], where, split: str):
    if not split_items:
        raise DatasetCorruptError(f"{where}: no images in the {split} split")
    labels = [label for label, _ in split_items]
    _check_counts(where, split, labels)
    images = torch.stack([image for _, image in split_items])
    return images, torch.tensor(labels, dtype=torch.long)


def _decode_folder(root: Path, files) -> dict:
    index = {c: i for i, c in enumerate(CIFAR10_CLASSES)}
    out = {}
    for split in _SPLITS:
        items = [(index[cls], _decode(Path(path).read_bytes(), path))
                 for cls, path in files[split]]
        out[split] = _stack(items, root / split, split)
    return out


def _archive_member_key(name: str) -> Optional[Tuple[str, str, str]]:
    """``(split, class, file)`` of a member path ``[prefix/]split/class/file``."""
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if len(parts) < 3 or parts[-3] not in _SPLITS:
        return None
    return parts[-3], parts[-2], parts[-1]


def _decode_archive(path: Path) -> dict:
    from torchvision.datasets.folder import IMG_EXTENSIONS

    found: Dict[str, List[Tuple[str, str, torch.Tensor]]] = {s: [] for s in _SPLITS}
    try:
        with tarfile.open(path, "r:*") as tar:
            for member in tar:
                key = _archive_member_key(member.name)
                if not member.isfile() or key is None \
                        or not key[2].lower().endswith(IMG_EXTENSIONS):
                    continue
                data = tar.extractfile(member).read()
                found[key[0]].append((key[1], key[2], _decode(data, f"{path}:{member.name}")))
    except (tarfile.TarError, EOFError, zlib.error, OSError) as err:
        raise DatasetCorruptError(
            f"{path} is truncated or corrupt ({type(err).__name__}: {err}); copy the "
            "archive again") from err
    out = {}
    for split in _SPLITS:
        where = f"{path}:{split}/"
        classes = sorted({cls for cls, _, _ in found[split]})
        if not classes:
            raise DatasetCorruptError(f"{path}: no {split}/<class>/ images in the archive")
        _check_classes(where, classes)
        index = {c: i for i, c in enumerate(CIFAR10_CLASSES)}
        # ImageFolder's order: classes sorted, files sorted by name within a class
        items = sorted(found[split], key=lambda t: (index[t[0]], t[1]))
        out[split] = _stack([(index[c], image) for c, _, image in items], where, split)
    return out


@contextmanager
def _locked(lock_path: Path):
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _read_cache(path: Path, sha: str) -> Optional[dict]:
    """The cache's content, or None when it is missing or unusable (then rebuilt)."""
    if not path.is_file():
        return None
    try:
        entry = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
        ok = (entry.get("format") == _CACHE_FORMAT and entry.get("sha256") == sha
              and all(entry[f"{s}_images"].dtype == torch.uint8 for s in _SPLITS))
    except Exception as err:  # noqa: BLE001 - any unreadable cache is rebuilt
        warnings.warn(f"{path}: unreadable cache ({type(err).__name__}: {err}); decoding again")
        return None
    if not ok:
        warnings.warn(f"{path}: cache of another format or source; decoding again")
        return None
    return entry


def load_cifar10_images(source: Path, say=None) -> dict:
    """Both splits of CIFAR-10 from an image folder or its ``.tar.gz``, decoded once.

    :param source: a folder with ``train/<class>/`` and ``test/<class>/`` (CIFAR-10's
        ten class names, 32x32 images), or such a folder packed as ``.tar.gz``
        (optionally under one top-level folder), read in place.
    :param say: called with one line when the images are decoded (``None``: silent).
    :returns: ``{"train": (uint8 [N, 3, 32, 32], long [N]), "test": (...),
        "classes": [...], "source": {"path", "kind", "sha256", "name"}}``; labels in
        CIFAR-10's order.
    :raises DatasetNotFoundError: ``source`` does not exist.
    :raises DatasetCorruptError: class folders that are not CIFAR-10's ten, unequal
        counts per class within a split, an undecodable image or one not 32x32, a
        truncated archive; the message names the file.

    Example::

        >>> data = load_cifar10_images(Path("cifar10-jpeg.tar.gz"))  # doctest: +SKIP
        >>> data["train"][0].shape, data["source"]["name"]  # doctest: +SKIP
        (torch.Size([50000, 3, 32, 32]), 'CIFAR-10 (JPEG q75 copy)')
    """
    source = Path(source)
    if not source.exists():
        raise DatasetNotFoundError(f"{source} does not exist")
    archive = source.is_file()
    files = None if archive else _folder_files(source)
    sha = file_sha256(source) if archive else _folder_sha256(files, source)
    path = cache_dir() / f"cifar10-imagefolder-{sha}.pt"
    with _locked(path.with_suffix(".lock")):
        entry = _read_cache(path, sha)
        if entry is None:
            if say is not None:
                say(f"decoding {source} once into {path}")
            split = _decode_archive(source) if archive else _decode_folder(source, files)
            entry = {"format": _CACHE_FORMAT, "sha256": sha,
                     **{f"{s}_images": split[s][0] for s in _SPLITS},
                     **{f"{s}_targets": split[s][1] for s in _SPLITS}}
            publish_file(path, lambda out: torch.save(entry, out))
    return {
        **{s: (entry[f"{s}_images"], entry[f"{s}_targets"]) for s in _SPLITS},
        "classes": list(CIFAR10_CLASSES),
        "source": {"path": str(source.resolve()),
                   "kind": "image-folder archive" if archive else "image folder",
                   "sha256": sha, "name": KNOWN_SOURCES.get(sha, "CIFAR-10 image folder")},
    }
