"""``mnist`` and ``fashion-mnist``: torchvision's readers, behind the checks they lack.

The four IDX files are looked for in torchvision's layout, ``<root>/MNIST/raw/`` or
``<root>/FashionMNIST/raw/``, plain or ``.gz``; for Fashion-MNIST also in
:data:`DEBIAN_FASHION_MNIST` (Debian's ``dataset-fashion-mnist`` package); ``.gz``
files are unpacked into ``raw/`` (through a private temporary file, so processes
sharing a data folder never read each other's half-written file). Missing files are
downloaded by torchvision when online.

torchvision's :class:`~torchvision.datasets.MNIST` then reads them
(``download=False``, so its md5 check of the archives does not apply). What it does
not check is checked first: a truncated or damaged IDX file or ``.gz`` source, or an
images file and a labels file that disagree, is a
:class:`~snntorch_ms.data.DatasetCorruptError` that names the file, the size its
header promises and the size found.
"""

from __future__ import annotations

import gzip
import math
import shutil
import zlib
from pathlib import Path
from typing import Sequence

from ..datasets import TensorImageDataset
from ..download import download_with, publish_file
from ..registry import DatasetCorruptError, DatasetNotFoundError, dataset_info

__all__ = ["DEBIAN_FASHION_MNIST", "load_mnist"]

_IDX_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)

#: Where Debian's ``dataset-fashion-mnist`` package installs the IDX ``.gz`` files.
DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")


def _publish(dst: Path, open_source) -> None:
    """Copy what ``open_source()`` reads to ``dst`` (:func:`~snntorch_ms.data.download.
    publish_file`: a private temporary file, then an atomic rename; torchvision only
    checks that the file exists)."""
    with open_source() as fin:
        publish_file(dst, lambda out: shutil.copyfileobj(fin, out, 1 << 20))


def _gunzip(src: Path, dst: Path) -> None:
    try:
        _publish(dst, lambda: gzip.open(src, "rb"))
    except (gzip.BadGzipFile, EOFError, zlib.error) as err:  # read errors, not a full disk
        raise DatasetCorruptError(
            f"{src} is corrupt: it does not decompress ({type(err).__name__}: {err}); "
            "replace it with a complete copy") from err


def _fill_raw(raw: Path, sources: Sequence[Path]) -> bool:
    """Make ``raw/<idx file>`` exist for all four files; True on success.

    Each file is taken from ``raw`` itself (plain or ``.gz``) or from the first
    folder of ``sources`` that holds it (plain or ``.gz``).
    """
    for name in _IDX_FILES:
        if (raw / name).is_file():
            continue
        for folder in (raw, *sources):
            if (folder / name).is_file() and folder != raw:
                raw.mkdir(parents=True, exist_ok=True)
                _publish(raw / name, lambda: open(folder / name, "rb"))
                break
            if (folder / (name + ".gz")).is_file():
                raw.mkdir(parents=True, exist_ok=True)
                _gunzip(folder / (name + ".gz"), raw / name)
                break
        else:
            return False
    return True


def _check_idx(path: Path, fix: str) -> int:
    r"""Check that an IDX file of unsigned bytes is complete; return its item count.

    The header is the magic ``0x00 0x00 0x08 ndim`` and ``ndim`` big-endian
    32-bit sizes, then the data, so the file must hold exactly

    .. math:: 4 + 4\,n_{\rm dim} + \textstyle\prod_k d_k \ \text{bytes.}
    """
    size = path.stat().st_size
    with open(path, "rb") as fh:
        header = fh.read(4)
        if len(header) < 4 or header[:3] != b"\x00\x00\x08" or not 1 <= header[3] <= 4:
            raise DatasetCorruptError(
                f"{path} is corrupt: not an IDX file of unsigned bytes (first bytes "
                f"{header.hex() or 'missing'}, expected 000008 followed by the number of "
                f"dimensions); {fix}")
        ndim = header[3]
        dims_raw = fh.read(4 * ndim)
    if len(dims_raw) < 4 * ndim:
        raise DatasetCorruptError(f"{path} is corrupt: its header is cut short ({size} bytes); {fix}")
    dims = [int.from_bytes(dims_raw[4 * k:4 * k + 4], "big") for k in range(ndim)]
    expected = 4 + 4 * ndim + math.prod(dims)
    if size != expected:
        raise DatasetCorruptError(
            f"{path} is corrupt: its header describes a {dims} array, a file of {expected} "
            f"bytes, but it holds {size} bytes (truncated or damaged); {fix}")
    return dims[0]


def _check_mnist_raw(raw: Path, train: bool, sources: Sequence[Path]) -> None:
    """Check the images and labels file of one split before torchvision reads them."""
    split = "train" if train else "t10k"
    fix = (f"delete it and put a complete copy there (or delete it and let the loader take it "
           f"again from {', '.join(map(str, sources))}, or download it)" if sources else
           "delete it and put a complete copy there, or delete it and download it")
    counts = {}
    for kind in ("images-idx3-ubyte", "labels-idx1-ubyte"):
        path = raw / f"{split}-{kind}"
        counts[kind] = _check_idx(path, fix)
    if counts["images-idx3-ubyte"] != counts["labels-idx1-ubyte"]:
        raise DatasetCorruptError(
            f"{raw}: {split}-images-idx3-ubyte holds {counts['images-idx3-ubyte']} images but "
            f"{split}-labels-idx1-ubyte holds {counts['labels-idx1-ubyte']} labels; {fix}")


def load_mnist(name: str, root: Path, train: bool, download: bool,
               augment=None) -> TensorImageDataset:
    """MNIST or Fashion-MNIST from torchvision's layout under ``root`` (called by
    :func:`~snntorch_ms.data.load_dataset`).

    :param name: ``"mnist"`` or ``"fashion-mnist"``.
    :type name: str
    :param root: the data folder (``<root>/MNIST/raw/``, ``<root>/FashionMNIST/raw/``).
    :type root: pathlib.Path
    :param train: the training split (60,000 images) if true, else the test split (10,000).
    :type train: bool
    :param download: download missing files (only when the host answers).
    :type download: bool
    :param augment: see :class:`~snntorch_ms.data.ImageDataset`. Defaults to None.
    :type augment: callable, optional
    :rtype: ~snntorch_ms.data.TensorImageDataset
    :raises DatasetNotFoundError: files missing and not downloadable; says what to put where.
    :raises DatasetCorruptError: a truncated or damaged file; names it.

    Example::

        >>> try:
        ...     load_mnist("mnist", Path("/nonexistent"), train=True, download=False)
        ... except DatasetNotFoundError as err:
        ...     print("t10k-images-idx3-ubyte" in str(err))
        True
    """
    try:
        from torchvision import datasets as tvd
    except ImportError as err:  # pragma: no cover - torchvision is a 'train' extra
        raise ImportError(f"dataset {name!r} needs torchvision: pip install torchvision") from err
    cls = tvd.FashionMNIST if name == "fashion-mnist" else tvd.MNIST
    raw = root / cls.__name__ / "raw"
    sources = [DEBIAN_FASHION_MNIST] if name == "fashion-mnist" else []
    what = (
        f"{name} not found: put {', '.join(f + '(.gz)' for f in _IDX_FILES)} in {raw}/"
        + (" (or install the Debian package dataset-fashion-mnist)" if sources else "")
        + f"; torchvision downloads them from {cls.mirrors[0]} with download=True."
    )
    if not _fill_raw(raw, sources):
        if not download:
            raise DatasetNotFoundError(what)
        download_with(lambda: cls(str(root), train=train, download=True), cls.mirrors[0], what)
    _check_mnist_raw(raw, train, sources)
    ds = cls(str(root), train=train, download=False)
    return TensorImageDataset(ds.data, ds.targets, dataset_info(name), augment,
                              classes=list(ds.classes))
