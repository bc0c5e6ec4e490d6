"""The source readers of :func:`~snntorch_ms.data.load_dataset`, one module per source:
:mod:`~snntorch_ms.data.sources.digits`, :mod:`~snntorch_ms.data.sources.mnist`
(MNIST and Fashion-MNIST), :mod:`~snntorch_ms.data.sources.cifar` (CIFAR-10 and
CIFAR-100; CIFAR-10 image folders through
:mod:`~snntorch_ms.data.sources.cifar_images`) and
:mod:`~snntorch_ms.data.sources.tiny` (Tiny-ImageNet). Each reads its files, checks
what its library does not, and returns an :class:`~snntorch_ms.data.ImageDataset`.
"""
