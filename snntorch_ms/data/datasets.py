"""The dataset classes: images in memory or in files, scaled, augmented, normalised.

Every dataset of :func:`~snntorch_ms.data.load_dataset` is an :class:`ImageDataset`
of ``(image, label)`` pairs: ``image`` a normalised float tensor ``[C, H, W]``,
``label`` a Python ``int``. The augmentation of image ``index`` is row ``index`` of
its epoch's draws, made from ``(seed, epoch)`` (:mod:`snntorch_ms.data.augment`),
never from a global random state: the same pixels as the resident loader's
(:class:`~snntorch_ms.data.ResidentLoader`).
"""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from .registry import DatasetInfo

__all__ = ["ImageDataset", "TensorImageDataset", "ImageFileDataset"]


class ImageDataset(Dataset):
    """Base class: scales, augments and normalises images; yields ``(tensor, int)``.

    Subclasses implement :meth:`raw_image` (``[C, H, W]``, ``uint8`` or float in
    [0, 1]) and set ``targets`` (a ``long`` tensor). Augmentation, if any, is a
    function of ``(seed, epoch, index)``; change the epoch with :meth:`set_epoch`
    (or :func:`~snntorch_ms.data.set_epoch` on a loader).

    :param info: the :class:`DatasetInfo` giving mean and std.
    :type info: DatasetInfo
    :param augment: a :class:`~snntorch_ms.data.RandomCropFlip`, or ``None``: image
        ``i`` gets row ``i`` of the epoch's draws (:meth:`RandomCropFlip.draw
        <snntorch_ms.data.RandomCropFlip.draw>`), as in the resident loader.
        Defaults to None (no augmentation).
    :type augment: callable, optional
    :param seed: seed of the augmentation draws. Defaults to 0.
    :type seed: int, optional

    Example::

        >>> from snntorch_ms.data import load_dataset
        >>> ds = load_dataset("digits", train=True)
        >>> isinstance(ds, ImageDataset)
        True
    """

    targets: torch.Tensor
    classes: list
    #: what the images were read from, where that identifies them
    #: (see :func:`~snntorch_ms.data.dataset_source`)
    source: Optional[dict] = None

    def __init__(self, info: DatasetInfo, augment=None, seed: int = 0) -> None:
        self.info = info
        self.augment = augment
        self.seed = int(seed)
        self.epoch = 0
        self._draws = None  # ((seed, epoch), the epoch's crop/flip draws)
        c = info.in_channels
        self._mean = torch.tensor(info.mean, dtype=torch.float32).view(c, 1, 1)
        self._std = torch.tensor(info.std, dtype=torch.float32).view(c, 1, 1)

    def set_epoch(self, epoch: int, seed: Optional[int] = None) -> None:
        """Select the augmentation draws of ``epoch`` (and optionally a new ``seed``).

        Example::

            >>> from snntorch_ms.data import load_dataset
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

    def epoch_draws(self):
        """This epoch's crop and flip draws for every index (made once per epoch).

        :rtype: snntorch_ms.data.augment.CropFlipDraws
        """
        key = (self.seed, self.epoch)
        if self._draws is None or self._draws[0] != key:
            self._draws = (key, self.augment.draw(len(self), self.seed, self.epoch))
        return self._draws[1]

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
            d = self.epoch_draws()
            row = slice(index, index + 1)
            image = self.augment(image[None], d.dy[row], d.dx[row], d.flip[row])[0]
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

        >>> from snntorch_ms.data import dataset_info
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

        >>> from snntorch_ms.data import dataset_info
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
