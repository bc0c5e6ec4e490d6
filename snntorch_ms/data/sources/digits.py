"""``digits``: scikit-learn's bundled handwritten digits, in memory, no download.

The 1,797 images of 8x8 pixels (values 0..16) are scaled to [0, 1] and upsampled
**bilinearly** (``align_corners=False``) to 16x16, so that feature maps stay >= 2x2
for windows through three 2x downsamplings. Split: stratified 80/20 with a fixed
seed (numpy's legacy ``RandomState``, stable across numpy versions), 1,438 training
and 359 test images, the same on every machine.
"""

from __future__ import annotations

import numpy as np
import torch

from ..datasets import TensorImageDataset
from ..registry import dataset_info

__all__ = ["load_digits"]

_DIGITS_CACHE: dict = {}


def _digits_tensors(train: bool):
    """Scaled, upsampled digits and the fixed stratified split (cached)."""
    if not _DIGITS_CACHE:
        from sklearn.datasets import load_digits as sklearn_digits

        import torch.nn.functional as F

        bunch = sklearn_digits()
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


def load_digits(train: bool, augment=None) -> TensorImageDataset:
    """The digits split ``train`` as a dataset of 16x16 images (called by
    :func:`~snntorch_ms.data.load_dataset`).

    :param train: the training split (1,438 images) if true, else the test split (359).
    :type train: bool
    :param augment: see :class:`~snntorch_ms.data.ImageDataset`. Defaults to None.
    :type augment: callable, optional
    :rtype: ~snntorch_ms.data.TensorImageDataset

    Example::

        >>> test = load_digits(train=False)
        >>> len(test), test.images.shape[1:], test.classes[:3]
        (359, torch.Size([1, 16, 16]), ['0', '1', '2'])
    """
    x, y = _digits_tensors(train)
    return TensorImageDataset(x, y, dataset_info("digits"), augment,
                              classes=[str(i) for i in range(10)])
