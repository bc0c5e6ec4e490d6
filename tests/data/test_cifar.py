"""snntorch_ms.data.sources.cifar: CIFAR-10/100 from self-written pickles and archives,
and pickles in the wrong format named."""

import pickle

import numpy as np
import pytest
import torch

from snntorch_ms.data import DatasetCorruptError, dataset_info, load_dataset


def _pickle(path, obj):
    with open(path, "wb") as f:
        pickle.dump(obj, f)


def _write_cifar10(root, per_batch=4):
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        labels = [int(v) for v in rng.integers(0, 10, per_batch)]
        data_ = rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8)
        _pickle(folder / name, {"batch_label": name, "labels": labels, "data": data_,
                                "filenames": [f"{name}_{i}.png" for i in range(per_batch)]})
    _pickle(folder / "batches.meta", {"label_names": [f"class{i}" for i in range(10)],
                                      "num_cases_per_batch": per_batch, "num_vis": 3072})
    return folder


def test_cifar10_from_user_pickles(tmp_path):
    folder = _write_cifar10(tmp_path)
    train = load_dataset("cifar10", root=tmp_path, train=True, download=False)
    test = load_dataset("cifar10", root=tmp_path, train=False, download=False, recipe="paper")
    assert (len(train), len(test)) == (20, 4)
    assert test.augment is None
    x, y = train[0]
    assert x.shape == (3, 32, 32) and x.dtype == torch.float32 and 0 <= y < 10
    # pixel layout: channel-major rows of 32, like the real files
    with open(folder / "data_batch_1", "rb") as f:
        batch = pickle.load(f)
    raw = torch.from_numpy(batch["data"][0].reshape(3, 32, 32)).float() / 255
    mean = torch.tensor(dataset_info("cifar10").mean).view(3, 1, 1)
    std = torch.tensor(dataset_info("cifar10").std).view(3, 1, 1)
    assert torch.allclose(x, (raw - mean) / std, atol=1e-6)
    assert y == batch["labels"][0]
    assert train.classes[3] == "class3"
    paper = load_dataset("cifar10", root=tmp_path, train=True, recipe="paper", download=False)
    assert paper.augment.padding == 4 and paper.augment.flip


def test_cifar_files_in_the_wrong_format_are_named(tmp_path):
    """Our reader behind torchvision's layout: by format (torchvision's reader
    refuses any file whose md5 is not the official one, as these are)."""

    folder = _write_cifar10(tmp_path)
    batch = folder / "data_batch_2"
    batch.write_bytes(batch.read_bytes()[:100])
    with pytest.raises(DatasetCorruptError, match=f"{batch} is corrupt: not a CIFAR pickle"):
        load_dataset("cifar10", root=tmp_path, train=True, download=False)
    assert len(load_dataset("cifar10", root=tmp_path, train=False, download=False)) == 4
    _pickle(batch, {"labels": [1, 2], "data": np.zeros((2, 100), dtype=np.uint8)})
    with pytest.raises(DatasetCorruptError, match="not rows of 3 x 32 x 32 bytes"):
        load_dataset("cifar10", root=tmp_path, train=True, download=False)
    _pickle(batch, {"data": np.zeros((2, 3072), dtype=np.uint8)})
    with pytest.raises(DatasetCorruptError, match="lacks 'labels'"):
        load_dataset("cifar10", root=tmp_path, train=True, download=False)


def test_cifar100_from_user_pickles(tmp_path):
    folder = tmp_path / "cifar-100-python"
    folder.mkdir()
    rng = np.random.default_rng(1)
    for name, n in (("train", 7), ("test", 3)):
        _pickle(folder / name, {"filenames": [f"{i}.png" for i in range(n)], "batch_label": name,
                                "fine_labels": [int(v) for v in rng.integers(0, 100, n)],
                                "coarse_labels": [int(v) for v in rng.integers(0, 20, n)],
                                "data": rng.integers(0, 256, (n, 3072), dtype=np.uint8)})
    _pickle(folder / "meta", {"fine_label_names": [f"f{i}" for i in range(100)],
                              "coarse_label_names": [f"c{i}" for i in range(20)]})
    train = load_dataset("cifar100", root=tmp_path, train=True, download=False)
    test = load_dataset("cifar100", root=tmp_path, train=False, download=False)
    assert (len(train), len(test)) == (7, 3)
    with open(folder / "test", "rb") as f:
        labels = pickle.load(f)["fine_labels"]
    assert [test[i][1] for i in range(3)] == labels
    assert test[0][0].shape == (3, 32, 32) and len(train.classes) == 100


def test_cifar10_from_tarball_in_root(tmp_path):
    import shutil
    import tarfile

    folder = _write_cifar10(tmp_path, per_batch=2)
    with tarfile.open(tmp_path / "cifar-10-python.tar.gz", "w:gz") as tar:
        tar.add(folder, arcname="cifar-10-batches-py")
    shutil.rmtree(folder)
    ds = load_dataset("cifar10", root=tmp_path, train=False, download=False)
    assert len(ds) == 2 and (folder / "test_batch").is_file()
