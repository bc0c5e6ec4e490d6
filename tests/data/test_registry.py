"""snntorch_ms.data.registry: dataset names, their facts, unknown names and recipes."""

import pytest

from snntorch_ms.data import DATASETS, DatasetInfo, dataset_info, load_dataset


def test_dataset_info_all_names():
    for name in DATASETS:
        info = dataset_info(name)
        assert isinstance(info, DatasetInfo)
        assert info.name == name
        assert len(info.mean) == len(info.std) == info.in_channels
    assert dataset_info("cifar100").num_classes == 100
    assert dataset_info("tiny-imagenet").image_size == 64
    assert dataset_info("Fashion_MNIST").name == "fashion-mnist"
    with pytest.raises(Exception):
        dataset_info("digits").num_classes = 3  # frozen


def test_unknown_name_lists_known():
    with pytest.raises(ValueError) as err:
        load_dataset("imagenet-1k")
    for name in DATASETS:
        assert name in str(err.value)
    with pytest.raises(ValueError):
        dataset_info("svhn")


def test_unknown_recipe():
    with pytest.raises(ValueError, match="recipe"):
        load_dataset("digits", recipe="autoaugment")
    with pytest.raises(ValueError, match="recipe"):
        load_dataset("cifar10", root="/nonexistent-root", recipe="fancy", download=False)
