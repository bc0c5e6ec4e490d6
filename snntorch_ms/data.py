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
  (:class:`KeyedMixUp`) is applied to batches by the training loop.

The transforms are torchvision's (``v2.RandomCrop``, ``v2.RandomHorizontalFlip``,
``v2.MixUp``); they draw from torch's generator, which :func:`keyed_rng` seeds per
draw and restores afterwards.

Reproducibility: the random crop and flip of an image are a pure function of
``(seed, epoch, index)``, never of a global random state, so they are identical
with any number of workers, in any process (for one torchvision version: another
version may draw differently). Loaders made by :func:`make_loader`
shuffle with a permutation that depends only on ``(seed, epoch)``. Call
:func:`set_epoch` at the start of every epoch (as with
:class:`~torch.utils.data.distributed.DistributedSampler`); a run resumed at epoch
``e`` then sees exactly the batches it would have seen.
"""

from __future__ import annotations

import gzip
import math
import os
import pickle
import shutil
import socket
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zlib
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional, Sequence, Union

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler, Subset

from .errors import DatasetCorruptError, DatasetNotFoundError

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
    "set_epoch",
    "dataset_source",
]

#: Names accepted by :func:`load_dataset` and :func:`dataset_info`.
DATASETS = ("digits", "mnist", "fashion-mnist", "cifar10", "cifar100", "tiny-imagenet")

#: Names accepted by the ``recipe`` argument of :func:`load_dataset`.
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

# recipe="paper" for training sets: (crop padding, horizontal flip)
_PAPER_AUG = {
    "digits": (2, False),
    "mnist": (2, False),
    "fashion-mnist": (2, True),
    "cifar10": (4, True),
    "cifar100": (4, True),
    "tiny-imagenet": (4, True),
}


def _canonical(name: str) -> str:
    key = str(name).strip().lower().replace("_", "-")
    key = _ALIASES.get(key, key)
    if key not in _INFO:
        raise ValueError(
            f"unknown dataset {name!r}; known datasets: {', '.join(DATASETS)}"
        )
    return key


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
    return _INFO[_canonical(name)]


# ---------------------------------------------------------------------------
# deterministic augmentation: torchvision's transforms, drawn from a key
# ---------------------------------------------------------------------------

_MASK64 = (1 << 64) - 1


def _splitmix64(x: int) -> int:
    x = (x + 0x9E3779B97F4A7C15) & _MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
    return x ^ (x >> 31)


def _mix(*values: int) -> int:
    """Hash integers into one 64-bit integer (order-sensitive, platform-independent)."""
    h = 0
    for v in values:
        h = _splitmix64(h ^ (int(v) & _MASK64))
    return h


@contextmanager
def keyed_rng(key: int):
    """Run the block with torch's CPU generator seeded by ``key``; restore it after.

    torchvision's random transforms draw from that generator: inside the block
    their draws are a pure function of ``key`` (an ``int``, taken modulo
    :math:`2^{64}`), and the random state outside the block is left as it was.

    Example::

        >>> with keyed_rng(7):
        ...     a = torch.rand(2)
        >>> with keyed_rng(7):
        ...     b = torch.rand(2)
        >>> torch.equal(a, b)
        True
    """
    with torch.random.fork_rng(devices=[]):
        torch.default_generator.manual_seed(int(key) & _MASK64)
        yield


def _v2():
    try:
        from torchvision.transforms import v2
    except ImportError as err:  # pragma: no cover - torchvision is a 'train' extra
        raise ImportError(
            f"augmentation needs torchvision >= 0.16 (pip install 'snntorch-ms[train]'): {err}"
        ) from err
    return v2


class RandomCropFlip:
    """torchvision's ``v2.RandomCrop(size, padding)`` then ``v2.RandomHorizontalFlip()``,
    drawn from an integer key.

    The crop pads the image with ``padding`` black pixels on each side and cuts a
    random window of the image's own size out of it; the flip mirrors it with
    probability 1/2. Both are torchvision's own transforms, run under
    :func:`keyed_rng`, so the result is a pure function of ``(image, key)`` in
    any process (the key of a dataset image is ``(seed, epoch, index)``).

    :param padding: pixels of zero padding on each side before cropping back to
        the original size (0 disables the crop). Defaults to 4.
    :type padding: int, optional
    :param flip: flip horizontally with probability 1/2. Defaults to True.
    :type flip: bool, optional
    :raises ValueError: if ``padding`` is negative.

    Calling it, ``aug(image, key)``, augments ``image`` (``[C, H, W]``, before
    normalisation, so the padding is black) with the draw ``key`` (an ``int``).

    Example::

        >>> aug = RandomCropFlip(padding=1, flip=False)
        >>> x = torch.ones(1, 3, 3)
        >>> torch.equal(aug(x, key=7), aug(x, key=7))
        True
        >>> aug(x, key=7).shape
        torch.Size([1, 3, 3])
        >>> [type(t).__name__ for t in RandomCropFlip(4).transform(32, 32).transforms]
        ['RandomCrop', 'RandomHorizontalFlip']
    """

    def __init__(self, padding: int = 4, flip: bool = True) -> None:
        if padding < 0:
            raise ValueError(f"padding must be >= 0, got {padding}")
        self.padding = int(padding)
        self.flip = bool(flip)
        self._transforms: dict = {}

    def transform(self, height: int, width: int):
        """The torchvision transform applied to images of ``height x width`` (cached).

        :rtype: torchvision.transforms.v2.Compose
        """
        size = (int(height), int(width))
        if size not in self._transforms:
            v2 = _v2()
            steps = [v2.RandomCrop(size, padding=self.padding, fill=0)] if self.padding else []
            steps += [v2.RandomHorizontalFlip(0.5)] if self.flip else []
            self._transforms[size] = v2.Compose(steps)
        return self._transforms[size]

    def __call__(self, image: torch.Tensor, key: int) -> torch.Tensor:
        """Augment ``image`` (``[C, H, W]``, values before normalisation) with the draw ``key``."""
        if not (self.padding or self.flip):
            return image
        transform = self.transform(*image.shape[-2:])
        with keyed_rng(key):
            return transform(image)

    def __repr__(self) -> str:
        return f"RandomCropFlip(padding={self.padding}, flip={self.flip})"


class KeyedMixUp:
    r"""torchvision's ``v2.MixUp`` on a batch, drawn from an integer key.

    .. math::

        \lambda \sim \mathrm{Beta}(\alpha, \alpha), \qquad
        \tilde x_i = \lambda x_i + (1 - \lambda)\, x_{i-1}, \qquad
        \tilde t_i = \lambda\, e_{y_i} + (1 - \lambda)\, e_{y_{i-1}}

    (the partner of each image is the one before it in the batch, which the
    loader has shuffled; :math:`e_y` is the one-hot vector of class :math:`y`).
    ``mix(images, labels, key)`` returns ``(mixed images, soft labels [B, K])``;
    the draw of :math:`\lambda` is a pure function of ``key``
    (:meth:`key` of ``(seed, epoch, step, rank)`` in the training loop), so a
    resumed run mixes its batches as a fresh run does. The images may live on
    any device; :math:`\lambda` is drawn on the CPU.

    :param alpha: the Beta parameter :math:`\alpha > 0` (the paper: 0.1).
    :type alpha: float
    :param num_classes: classes :math:`K` of the soft labels.
    :type num_classes: int

    Example::

        >>> mix = KeyedMixUp(0.1, num_classes=3)
        >>> x, t = mix(torch.ones(2, 1, 2, 2), torch.tensor([0, 2]), key=5)
        >>> t.shape, bool(torch.allclose(t.sum(1), torch.ones(2)))
        (torch.Size([2, 3]), True)
    """

    def __init__(self, alpha: float, num_classes: int) -> None:
        self.alpha = float(alpha)
        self.num_classes = int(num_classes)
        self.mixup = _v2().MixUp(alpha=self.alpha, num_classes=self.num_classes)

    @staticmethod
    def key(seed: int, epoch: int, step: int, rank: int = 0) -> int:
        """The draw of batch ``step`` of ``epoch`` on process ``rank`` of a run with ``seed``."""
        return _mix(seed, epoch, step, rank, 0x313C)

    def __call__(self, images: torch.Tensor, labels: torch.Tensor, key: int):
        """Mix a batch ``[B, ...]`` with labels ``[B]``: ``(images, soft labels [B, K])``."""
        with keyed_rng(key):
            return self.mixup(images, labels)

    def __repr__(self) -> str:
        return f"KeyedMixUp(alpha={self.alpha}, num_classes={self.num_classes})"


def train_augmentation(name: str, recipe: str = "paper") -> Optional[RandomCropFlip]:
    """Return the training augmentation of ``recipe`` for dataset ``name`` (or ``None``).

    :param name: one of :data:`DATASETS`.
    :type name: str
    :param recipe: one of :data:`RECIPES`; ``"basic"`` has no augmentation.
        Defaults to ``"paper"``.
    :type recipe: str, optional
    :rtype: RandomCropFlip or None
    :raises ValueError: for an unknown name or recipe.

    Example::

        >>> train_augmentation("cifar10", "paper")
        RandomCropFlip(padding=4, flip=True)
        >>> train_augmentation("cifar10", "basic") is None
        True
    """
    name = _canonical(name)
    if recipe not in RECIPES:
        raise ValueError(f"unknown recipe {recipe!r}; known recipes: {', '.join(RECIPES)}")
    if recipe == "basic":
        return None
    padding, flip = _PAPER_AUG[name]
    return RandomCropFlip(padding, flip)


# ---------------------------------------------------------------------------
# dataset classes
# ---------------------------------------------------------------------------


class ImageDataset(Dataset):
    """Base class: scales, augments and normalises images; yields ``(tensor, int)``.

    Subclasses implement :meth:`raw_image` (``[C, H, W]``, ``uint8`` or float in
    [0, 1]) and set ``targets`` (a ``long`` tensor). Augmentation, if any, is a
    function of ``(seed, epoch, index)``; change the epoch with :meth:`set_epoch`
    (or :func:`set_epoch` on a loader).

    :param info: the :class:`DatasetInfo` giving mean and std.
    :type info: DatasetInfo
    :param augment: a :class:`RandomCropFlip` (or any ``f(image, key)``), or ``None``.
        Defaults to None (no augmentation).
    :type augment: callable, optional
    :param seed: seed of the augmentation draws. Defaults to 0.
    :type seed: int, optional

    Example::

        >>> ds = load_dataset("digits", train=True)
        >>> isinstance(ds, ImageDataset)
        True
    """

    targets: torch.Tensor
    classes: list
    #: what the images were read from, where that identifies them (see :func:`dataset_source`)
    source: Optional[dict] = None

    def __init__(self, info: DatasetInfo, augment=None, seed: int = 0) -> None:
        self.info = info
        self.augment = augment
        self.seed = int(seed)
        self.epoch = 0
        c = info.in_channels
        self._mean = torch.tensor(info.mean, dtype=torch.float32).view(c, 1, 1)
        self._std = torch.tensor(info.std, dtype=torch.float32).view(c, 1, 1)

    def set_epoch(self, epoch: int, seed: Optional[int] = None) -> None:
        """Select the augmentation draws of ``epoch`` (and optionally a new ``seed``).

        Example::

            >>> ds = load_dataset("digits", recipe="paper")
            >>> ds.set_epoch(3)
            >>> ds.epoch
            3

        :param epoch: the epoch number.
        :type epoch: int
        :param seed: a new seed of the augmentation draws. Defaults to None (keep
            the current one).
        :type seed: int, optional
        """
        self.epoch = int(epoch)
        if seed is not None:
            self.seed = int(seed)

    def raw_image(self, index: int) -> torch.Tensor:  # pragma: no cover - abstract
        """Image ``index`` before scaling and normalisation, ``[C, H, W]``.

        :param index: the sample index, ``0 <= index < len(self)``.
        :type index: int
        :return: ``uint8`` (0..255) or float (0..1) tensor ``[C, H, W]``.
        :rtype: torch.Tensor
        """
        raise NotImplementedError(f"{type(self).__name__} must implement raw_image(index)")

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, index: int):
        index = int(index)
        if index < 0:
            index += len(self)
        image = self.raw_image(index)
        if image.dtype == torch.uint8:
            image = image.to(torch.float32).div_(255.0)
        else:
            image = image.to(torch.float32)
        if self.augment is not None:
            image = self.augment(image, _mix(self.seed, self.epoch, index))
        image = (image - self._mean) / self._std
        return image, int(self.targets[index])

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(name={self.info.name!r}, size={len(self)}, "
            f"augment={self.augment!r})"
        )


class TensorImageDataset(ImageDataset):
    """An image dataset held in memory as one tensor ``[N, C, H, W]``.

    :param images: ``uint8`` (0..255) or float (0..1) tensor ``[N, C, H, W]``
        (``[N, H, W]`` is read as one channel).
    :type images: torch.Tensor
    :param targets: integer labels ``[N]``.
    :type targets: torch.Tensor or sequence of int
    :param info: the :class:`DatasetInfo` (mean, std).
    :type info: DatasetInfo
    :param augment: see :class:`ImageDataset`. Defaults to None.
    :type augment: callable, optional
    :param classes: class names. Defaults to None (``"0"``, ``"1"``, ...).
    :type classes: sequence of str, optional
    :param seed: seed of the augmentation draws. Defaults to 0.
    :type seed: int, optional
    :raises ValueError: for images that are not ``[N, C, H, W]``, or as many
        targets as images.

    Example::

        >>> info = dataset_info("digits")
        >>> ds = TensorImageDataset(torch.zeros(4, 1, 16, 16), torch.arange(4), info)
        >>> x, y = ds[2]
        >>> x.shape, y
        (torch.Size([1, 16, 16]), 2)
    """

    def __init__(
        self,
        images: torch.Tensor,
        targets,
        info: DatasetInfo,
        augment=None,
        classes: Optional[Sequence[str]] = None,
        seed: int = 0,
    ) -> None:
        super().__init__(info, augment, seed)
        images = torch.as_tensor(images)
        if images.dim() == 3:
            images = images.unsqueeze(1)
        if images.dim() != 4:
            raise ValueError(f"images must be [N, C, H, W], got shape {tuple(images.shape)}")
        self.images = images
        self.targets = torch.as_tensor(targets, dtype=torch.long).reshape(-1)
        if len(self.targets) != len(images):
            raise ValueError(f"{len(images)} images but {len(self.targets)} targets")
        self.classes = list(classes) if classes is not None else [str(i) for i in range(info.num_classes)]

    def raw_image(self, index: int) -> torch.Tensor:
        return self.images[index]


class ImageFileDataset(ImageDataset):
    """An image dataset read lazily from image files (decoded with PIL, converted to RGB).

    Images whose size differs from ``info.image_size`` are resized (bilinear).

    :param samples: list of ``(path, label)``.
    :type samples: sequence of tuple(str, int)
    :param info: the :class:`DatasetInfo`.
    :type info: DatasetInfo
    :param augment: see :class:`ImageDataset`. Defaults to None.
    :type augment: callable, optional
    :param classes: class names. Defaults to None (``"0"``, ``"1"``, ...).
    :type classes: sequence of str, optional
    :param seed: seed of the augmentation draws. Defaults to 0.
    :type seed: int, optional

    Example::

        >>> ds = ImageFileDataset([], dataset_info("tiny-imagenet"))
        >>> len(ds)
        0
    """

    def __init__(
        self,
        samples: Sequence,
        info: DatasetInfo,
        augment=None,
        classes: Optional[Sequence[str]] = None,
        seed: int = 0,
    ) -> None:
        super().__init__(info, augment, seed)
        self.samples = [(str(p), int(y)) for p, y in samples]
        self.targets = torch.tensor([y for _, y in self.samples], dtype=torch.long)
        self.classes = list(classes) if classes is not None else [str(i) for i in range(info.num_classes)]

    def raw_image(self, index: int) -> torch.Tensor:
        from PIL import Image

        size = self.info.image_size
        with Image.open(self.samples[index][0]) as img:
            img = img.convert("RGB" if self.info.in_channels == 3 else "L")
            if img.size != (size, size):
                img = img.resize((size, size), Image.BILINEAR)
            arr = np.array(img, dtype=np.uint8, copy=True)
        if arr.ndim == 2:
            arr = arr[:, :, None]
        return torch.from_numpy(arr).permute(2, 0, 1)


# ---------------------------------------------------------------------------
# network helpers
# ---------------------------------------------------------------------------

_CONNECT_TIMEOUT = 5.0  # seconds to reach a download host
_SOCKET_TIMEOUT = 60.0  # seconds of silence before a running download gives up


def _reachable(url: str, timeout: float = _CONNECT_TIMEOUT) -> Optional[str]:
    """Return ``None`` if ``url``'s host accepts a TCP connection, else the reason.

    With a proxy configured in the environment the check is left to the download
    itself (which runs with a socket timeout).
    """
    proxies = urllib.request.getproxies()
    if any(k in proxies for k in ("http", "https", "all")):
        return None
    parts = urllib.parse.urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        socket.create_connection((parts.hostname, port), timeout=timeout).close()
    except OSError as err:
        return f"{type(err).__name__}: {err}"
    return None


@contextmanager
def _socket_timeout(seconds: float):
    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(old)


_DOWNLOAD_ERRORS = (OSError, RuntimeError, urllib.error.URLError, EOFError, tarfile.TarError)


def _download(url: str, root: Path, filename: str, md5: Optional[str], what: str) -> None:
    """Download and extract an archive into ``root`` or raise :class:`DatasetNotFoundError`."""
    reason = _reachable(url)
    if reason is not None:
        raise DatasetNotFoundError(f"{what}\nDownload from {url} failed: host unreachable ({reason}).")
    try:
        from torchvision.datasets.utils import download_and_extract_archive
    except ImportError as err:  # pragma: no cover - torchvision is a 'train' extra
        raise DatasetNotFoundError(f"{what}\nDownloading needs torchvision ({err}).") from err
    try:
        with _socket_timeout(_SOCKET_TIMEOUT):
            download_and_extract_archive(url, str(root), filename=filename, md5=md5)
    except _DOWNLOAD_ERRORS as err:
        raise DatasetNotFoundError(f"{what}\nDownload from {url} failed: {type(err).__name__}: {err}") from err


# ---------------------------------------------------------------------------
# digits (scikit-learn, in memory)
# ---------------------------------------------------------------------------

_DIGITS_CACHE: dict = {}


def _digits_tensors(train: bool):
    """Scaled, upsampled digits and the fixed stratified split (cached)."""
    if not _DIGITS_CACHE:
        from sklearn.datasets import load_digits

        import torch.nn.functional as F

        bunch = load_digits()
        x = torch.tensor(bunch.data, dtype=torch.float32).reshape(-1, 1, 8, 8) / 16.0
        x = F.interpolate(x, size=(16, 16), mode="bilinear", align_corners=False)
        y = np.asarray(bunch.target, dtype=np.int64)
        # stratified 80/20 split; legacy RandomState is stable across numpy versions
        rs = np.random.RandomState(0)
        test = []
        for c in range(10):
            idx = np.flatnonzero(y == c)
            rs.shuffle(idx)
            test.extend(idx[: int(round(0.2 * len(idx)))].tolist())
        is_test = np.zeros(len(y), dtype=bool)
        is_test[test] = True
        y = torch.from_numpy(y)
        mask = torch.from_numpy(is_test)
        _DIGITS_CACHE[True] = (x[~mask].contiguous(), y[~mask].clone())
        _DIGITS_CACHE[False] = (x[mask].contiguous(), y[mask].clone())
    return _DIGITS_CACHE[train]


def _load_digits(train: bool, augment) -> TensorImageDataset:
    x, y = _digits_tensors(train)
    return TensorImageDataset(x, y, _INFO["digits"], augment, classes=[str(i) for i in range(10)])


# ---------------------------------------------------------------------------
# MNIST / Fashion-MNIST (torchvision layout)
# ---------------------------------------------------------------------------

_IDX_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)

#: Where Debian's ``dataset-fashion-mnist`` package installs the IDX ``.gz`` files.
DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")


def _publish(dst: Path, open_source) -> None:
    """Copy what ``open_source()`` reads to ``dst`` through a private temporary file,
    then rename it into place.

    The temporary name is unique to this call, so training processes that share a
    data folder and unpack it at the same time each publish a complete file (the
    last rename wins; all of them hold the same bytes) instead of renaming each
    other's half-written one. Nothing is left behind when reading or writing fails.
    """
    fd, tmp = tempfile.mkstemp(dir=dst.parent, prefix=dst.name + ".", suffix=".part")
    try:
        with open_source() as fin, os.fdopen(fd, "wb") as fout:
            shutil.copyfileobj(fin, fout, 1 << 20)
        os.replace(tmp, dst)  # atomic: torchvision only checks that the file exists
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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


def _load_mnist_like(name: str, root: Path, train: bool, download: bool, augment) -> TensorImageDataset:
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
    found = _fill_raw(raw, sources)
    if not found:
        if not download:
            raise DatasetNotFoundError(what)
        reason = _reachable(cls.mirrors[0])
        if reason is not None:
            raise DatasetNotFoundError(f"{what}\nDownload failed: host unreachable ({reason}).")
        try:
            with _socket_timeout(_SOCKET_TIMEOUT):
                cls(str(root), train=train, download=True)
        except _DOWNLOAD_ERRORS as err:
            raise DatasetNotFoundError(f"{what}\nDownload failed: {type(err).__name__}: {err}") from err
    _check_mnist_raw(raw, train, sources)
    ds = cls(str(root), train=train, download=False)
    return TensorImageDataset(ds.data, ds.targets, _INFO[name], augment, classes=list(ds.classes))


# ---------------------------------------------------------------------------
# CIFAR-10 / CIFAR-100 (torchvision's layout, read by format, not by checksum)
# ---------------------------------------------------------------------------

_CIFAR = ("cifar10", "cifar100")


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
    from ._image_folder import load_cifar10_images

    data = load_cifar10_images(root)
    images, targets = data["train" if train else "test"]
    ds = TensorImageDataset(images, targets, _INFO["cifar10"], augment, classes=data["classes"])
    ds.source = data["source"]
    return ds


def _load_cifar(name: str, root: Path, train: bool, download: bool, augment) -> TensorImageDataset:
    from ._image_folder import is_archive, is_image_folder

    if name == "cifar10" and ((root.is_file() and is_archive(root)) or is_image_folder(root)):
        return _load_cifar_images(root, train, augment)
    layout = _cifar_layout(name)
    folder = root / layout.base_folder
    needed = [f for f, _ in layout.train_list + layout.test_list]
    tarball = layout.filename
    what = (
        f"{name} not found: put {layout.base_folder}/ ({', '.join(needed)}, "
        f"{layout.meta['filename']}) in {root}/, i.e. {folder}/, or the archive {tarball} in "
        f"{root}/; get it from https://www.cs.toronto.edu/~kriz/cifar.html ({layout.url})."
        + (" Or pass a folder with train/<class>/ and test/<class>/ image folders, or such a "
           "folder packed as .tar.gz, as the data folder." if name == "cifar10" else "")
    )

    def missing():
        return [f for f in needed if not (folder / f).is_file()]

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
        _download(layout.url, root, tarball, layout.tgz_md5, what)
        if missing():
            raise DatasetNotFoundError(f"{what}\nStill missing after download: {', '.join(missing())}.")

    label_key = "labels" if name == "cifar10" else "fine_labels"
    data, labels = [], []
    for fname, _md5 in layout.train_list if train else layout.test_list:
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
            f"{', '.join(f for f, _ in (layout.train_list if train else layout.test_list))}")
    classes = None
    meta = folder / layout.meta["filename"]
    if meta.is_file():
        classes = [str(c) for c in _unpickle(meta, (layout.meta["key"],))[layout.meta["key"]]]
    return TensorImageDataset(images, torch.tensor(labels), _INFO[name], augment, classes=classes)


# ---------------------------------------------------------------------------
# Tiny-ImageNet (folder layout of the official zip)
# ---------------------------------------------------------------------------

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


def _load_tiny(root: Path, train: bool, download: bool, augment) -> ImageFileDataset:
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
        _download(_TINY_URL, root, zip_path.name, _TINY_MD5, what)
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
    return ImageFileDataset(samples, _INFO["tiny-imagenet"], augment, classes=wnids)


# ---------------------------------------------------------------------------
# entry point
# ---------------------------------------------------------------------------


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
      :func:`dataset_source`).
    * ``cifar10`` / ``cifar100``: ``<root>/cifar-10-batches-py/`` /
      ``<root>/cifar-100-python/`` (the python pickles, read directly: files in the
      right format load without torchvision's md5 check), else the archive
      ``cifar-10-python.tar.gz`` / ``cifar-100-python.tar.gz`` in ``<root>``, else
      downloaded.
    * ``tiny-imagenet``: ``<root>/tiny-imagenet-200/`` (the official zip's layout;
      classes are the sorted wnids of ``wnids.txt``; ``train=False`` gives the
      validation set with labels from ``val/val_annotations.txt``), else
      ``<root>/tiny-imagenet-200.zip``, else downloaded.

    :param name: one of :data:`DATASETS` (see :func:`dataset_info` for aliases).
    :type name: str
    :param root: data folder (created only when something is written into it).
        Defaults to ``"data"``.
    :type root: str or os.PathLike, optional
    :param train: training split if true, else test (validation) split. Defaults
        to True.
    :type train: bool, optional
    :param recipe: ``"basic"`` (normalise) or ``"paper"`` (crop and flip for the
        training split, see :func:`train_augmentation`). Defaults to ``"basic"``.
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
    name = _canonical(name)
    if recipe not in RECIPES:
        raise ValueError(f"unknown recipe {recipe!r}; known recipes: {', '.join(RECIPES)}")
    augment = train_augmentation(name, recipe) if train else None
    if name == "digits":
        return _load_digits(train, augment)
    root = Path(os.path.expanduser(os.fspath(root)))  # created only when files are written
    if name in ("mnist", "fashion-mnist"):
        return _load_mnist_like(name, root, train, download, augment)
    if name in _CIFAR:
        return _load_cifar(name, root, train, download, augment)
    return _load_tiny(root, train, download, augment)


# ---------------------------------------------------------------------------
# subsets and loaders
# ---------------------------------------------------------------------------


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
        g = torch.Generator().manual_seed(_mix(self.seed, self.epoch) >> 1)
        return iter(torch.randperm(self.n, generator=g).tolist())

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

        >>> loader = make_loader(load_dataset("digits"), 32, train=True, seed=3)
        >>> set_epoch(loader, 0); a = next(iter(loader))[1]
        >>> set_epoch(loader, 0); b = next(iter(loader))[1]
        >>> torch.equal(a, b)
        True
    """
    epoch = int(epoch)
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
        loader.generator.manual_seed(_mix(seed, epoch, 1) >> 1)
