"""snntorch_ms.data as a package: the public names users import, the examples of every
module, and where the dataset errors live."""

import doctest
import importlib
import pkgutil

import snntorch_ms.data as data
from snntorch_ms.errors import UserError

#: snntorch_ms.data's public names before it became a package (0.3.0), which stay, and
#: the resident loader (0.4.0).
PUBLIC = [
    "DATASETS", "RECIPES", "DatasetInfo", "DatasetNotFoundError", "DatasetCorruptError",
    "ImageDataset", "TensorImageDataset", "ImageFileDataset", "RandomCropFlip", "KeyedMixUp",
    "keyed_rng", "EpochSampler", "dataset_info", "load_dataset", "train_augmentation", "subset",
    "make_loader", "ResidentLoader", "set_epoch", "dataset_source",
]


def _modules():
    names = [data.__name__] + [m.name for m in pkgutil.walk_packages(data.__path__, "snntorch_ms.data.")]
    return [importlib.import_module(n) for n in names]


def test_public_names_are_unchanged():
    assert data.__all__ == PUBLIC
    for name in PUBLIC:
        assert getattr(data, name) is not None


def test_doctests():
    failed = attempted = 0
    for module in _modules():
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        failed += result.failed
        attempted += result.attempted
    assert failed == 0 and attempted > 10


def test_dataset_errors_live_in_the_registry_and_are_user_errors():
    from snntorch_ms.data import registry

    assert data.DatasetNotFoundError is registry.DatasetNotFoundError
    assert data.DatasetCorruptError.__module__ == "snntorch_ms.data.registry"
    assert issubclass(data.DatasetCorruptError, data.DatasetNotFoundError)
    assert issubclass(data.DatasetNotFoundError, UserError)
    assert issubclass(data.DatasetNotFoundError, FileNotFoundError)
