"""Tests of snntorch_ms.data: loaders on real and self-written files, errors, loaders."""

import doctest
import gzip
import pickle
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import torch

from snntorch_ms import data
from snntorch_ms.data import (
    DATASETS,
    DatasetInfo,
    DatasetNotFoundError,
    RandomCropFlip,
    dataset_info,
    load_dataset,
    make_loader,
    set_epoch,
    subset,
)

DEBIAN_FMNIST = Path("/usr/share/datasets/fashion-mnist")


# ---------------------------------------------------------------- info / names


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


def test_doctests():
    result = doctest.testmod(data, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 10


# ---------------------------------------------------------------- digits


def test_digits_shapes_labels_normalisation():
    train = load_dataset("digits", train=True)
    test = load_dataset("digits", train=False)
    assert (len(train), len(test)) == (1438, 359)
    x, y = train[0]
    assert x.shape == (1, 16, 16) and x.dtype == torch.float32 and isinstance(y, int)
    xs = torch.stack([train[i][0] for i in range(len(train))])
    assert abs(xs.mean().item()) < 0.01
    assert abs(xs.std().item() - 1.0) < 0.01
    for ds in (train, test):
        labels = ds.targets
        assert labels.min() == 0 and labels.max() == 9
        counts = torch.bincount(labels, minlength=10)
        assert (counts > 0).all()
    # stratified: each class ~20 % in test
    frac = torch.bincount(test.targets, minlength=10) / (
        torch.bincount(test.targets, minlength=10) + torch.bincount(train.targets, minlength=10)
    )
    assert ((frac - 0.2).abs() < 0.01).all()


def test_digits_split_deterministic_and_disjoint():
    data._DIGITS_CACHE.clear()
    a = load_dataset("digits", train=True)
    b_test = load_dataset("digits", train=False)
    data._DIGITS_CACHE.clear()
    b = load_dataset("digits", train=True)
    assert torch.equal(a.images, b.images) and torch.equal(a.targets, b.targets)
    # no training image appears in the test set
    flat_train = {tuple(r.tolist()) for r in a.images.flatten(1)}
    assert not any(tuple(r.tolist()) in flat_train for r in b_test.images.flatten(1)[:50])


def test_paper_recipe_digits_augments_train_only():
    train = load_dataset("digits", train=True, recipe="paper")
    plain = load_dataset("digits", train=True, recipe="basic")
    test = load_dataset("digits", train=False, recipe="paper")
    assert test.augment is None
    assert plain.augment is None and train.augment is not None
    changed = sum(not torch.equal(train[i][0], plain[i][0]) for i in range(50))
    assert changed > 20
    # a function of (seed, epoch, index)
    assert torch.equal(train[5][0], train[5][0])
    before = torch.stack([train[i][0] for i in range(20)])
    train.set_epoch(1)
    after = torch.stack([train[i][0] for i in range(20)])
    assert not torch.equal(before, after)


def _shift(x, dy, dx):
    """out[i, j] = x[i + dy, j + dx], 0 outside: a crop of the zero-padded image."""
    ref = torch.zeros_like(x)
    h, w = x.shape[-2:]
    for i in range(h):
        for j in range(w):
            if 0 <= i + dy < h and 0 <= j + dx < w:
                ref[..., i, j] = x[..., i + dy, j + dx]
    return ref


def test_random_crop_flip_is_torchvisions_crop_and_flip_drawn_from_the_key():
    from torchvision.transforms import v2

    x = torch.arange(1.0, 17.0).view(1, 4, 4)
    aug = RandomCropFlip(padding=1, flip=True)
    shifts = {(dy, dx): _shift(x, dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)}
    seen, flips = {}, 0
    state = torch.get_rng_state()
    for k in range(400):
        key = data._mix(k)
        out = aug(x, key)
        assert torch.equal(out, aug(x, key))  # a pure function of the key
        # the same as torchvision's own transforms seeded with the key
        torch.manual_seed(key)
        ref = v2.RandomHorizontalFlip()(v2.RandomCrop(4, padding=1)(x))
        assert torch.equal(out, ref)
        # and it is one of the 9 shifts, mirrored or not
        flipped = not any(torch.equal(out, s) for s in shifts.values())
        flips += flipped
        plain = out.flip(-1) if flipped else out
        (shift,) = [d for d, s in shifts.items() if torch.equal(plain, s)]
        seen[shift] = seen.get(shift, 0) + 1
    torch.set_rng_state(state)
    assert len(seen) == 9 and min(seen.values()) > 20  # 400 / 9 = 44 each on average
    assert 160 < flips < 240  # p = 1/2
    # keyed_rng leaves the global generator where it was
    torch.manual_seed(3)
    before = torch.get_rng_state()
    aug(x, 123)
    assert torch.equal(torch.get_rng_state(), before)
    # no crop and no flip: the image itself
    assert RandomCropFlip(0, False)(x, 5) is x


def test_keyed_mixup_is_torchvisions_mixup_drawn_from_the_key():
    from snntorch_ms.data import KeyedMixUp

    mix = KeyedMixUp(0.4, num_classes=3)
    x = torch.tensor([1.0, 10.0, 100.0]).view(3, 1, 1, 1)
    y = torch.tensor([0, 2, 2])
    xm, t = mix(x, y, key=11)
    # lambda from the soft label of image 0 (class 0, its partner is image 2, class 2)
    lam = float(t[0, 0])
    assert 0.0 < lam < 1.0
    # partner = the image before in the batch: x_i <- lam x_i + (1 - lam) x_{i-1}
    expect = torch.tensor([lam * 1 + (1 - lam) * 100, lam * 10 + (1 - lam) * 1,
                           lam * 100 + (1 - lam) * 10]).view(3, 1, 1, 1)
    assert torch.allclose(xm, expect, rtol=1e-6)
    assert torch.allclose(t, torch.tensor([[lam, 0, 1 - lam], [1 - lam, 0, lam], [0, 0, 1.0]]))
    xm2, t2 = mix(x, y, key=11)
    assert torch.equal(xm, xm2) and torch.equal(t, t2)
    assert not torch.equal(mix(x, y, key=12)[1], t)
    # the key of a batch depends on (seed, epoch, step, rank), each of them
    keys = {KeyedMixUp.key(*a) for a in ((0, 0, 0, 0), (1, 0, 0, 0), (0, 1, 0, 0), (0, 0, 1, 0),
                                         (0, 0, 0, 1))}
    assert len(keys) == 5
    # lambda ~ Beta(0.4, 0.4): mean 1/2, variance 1 / (4 (2 alpha + 1)) = 0.1389
    lams = torch.tensor([float(mix(x, y, key=k)[1][0, 0]) for k in range(2000)])
    assert abs(lams.mean().item() - 0.5) < 0.03 and abs(lams.var().item() - 0.1389) < 0.015


# ---------------------------------------------------------------- subset / loader


def test_subset_balanced_deterministic():
    ds = load_dataset("digits")
    a = subset(ds, 55, seed=1)
    b = subset(ds, 55, seed=1)
    c = subset(ds, 55, seed=2)
    assert a.indices == b.indices != c.indices
    counts = torch.bincount(ds.targets[a.indices], minlength=10)
    assert counts.max() - counts.min() <= 1 and counts.sum() == 55
    assert subset(ds, None) is ds and subset(ds, 10**6) is ds
    nested = subset(a, 20, seed=0)
    counts = torch.bincount(ds.targets[[a.indices[i] for i in nested.indices]], minlength=10)
    assert counts.tolist() == [2] * 10
    with pytest.raises(ValueError):
        subset(ds, 0)


def test_make_loader_reproducible_and_resumable():
    ds = subset(load_dataset("digits", recipe="paper"), 200, seed=0)

    def epoch_batches(loader, epoch):
        set_epoch(loader, epoch)
        return [(x.clone(), y.clone()) for x, y in loader]

    l1 = make_loader(ds, 64, train=True, seed=7)
    run = [epoch_batches(l1, e) for e in range(2)]
    # a fresh loader "resumed" at epoch 1 reproduces epoch 1 exactly
    l2 = make_loader(ds, 64, train=True, seed=7)
    resumed = epoch_batches(l2, 1)
    for (xa, ya), (xb, yb) in zip(run[1], resumed):
        assert torch.equal(xa, xb) and torch.equal(ya, yb)
    assert not torch.equal(run[0][0][1], run[1][0][1])  # epochs differ
    assert sum(len(y) for _, y in run[0]) == 200
    # evaluation order is the dataset order
    ev = make_loader(ds, 50, train=False)
    ys = torch.cat([y for _, y in ev])
    assert torch.equal(ys, torch.tensor([ds[i][1] for i in range(len(ds))]))


# ---------------------------------------------------------------- Fashion-MNIST (Debian)


@pytest.mark.skipif(
    not DEBIAN_FMNIST.is_dir(),
    reason="Debian's Fashion-MNIST files are absent: apt-get install dataset-fashion-mnist",
)
def test_fashion_mnist_from_debian(tmp_path):
    train = load_dataset("fashion-mnist", root=tmp_path, train=True, download=False)
    test = load_dataset("fashion-mnist", root=tmp_path, train=False, download=False)
    assert (len(train), len(test)) == (60000, 10000)
    x, y = test[0]
    assert x.shape == (1, 28, 28) and 0 <= y < 10
    assert torch.bincount(train.targets).tolist() == [6000] * 10
    assert (tmp_path / "FashionMNIST" / "raw" / "train-images-idx3-ubyte").is_file()
    xs = train.images[:5000].float() / 255
    assert abs(xs.mean().item() - 0.286) < 0.01
    assert train.classes[0] == "T-shirt/top"


def _write_idx(path, arr):
    arr = np.asarray(arr, dtype=np.uint8)
    header = bytes([0, 0, 8, arr.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + arr.tobytes())


def test_mnist_from_gz_in_root(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for split, n in (("train", 12), ("t10k", 5)):
        _write_idx(raw / f"{split}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28)))
        _write_idx(raw / f"{split}-labels-idx1-ubyte.gz", np.arange(n) % 10)
    ds = load_dataset("mnist", root=tmp_path, train=False, download=False)
    assert len(ds) == 5 and ds.targets.tolist() == [0, 1, 2, 3, 4]
    assert ds[0][0].shape == (1, 28, 28)


def _mnist_raw(root, n_train=12, n_test=5):
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for split, n in (("train", n_train), ("t10k", n_test)):
        _write_idx(raw / f"{split}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28)))
        _write_idx(raw / f"{split}-labels-idx1-ubyte.gz", np.arange(n) % 10)
    return raw


def test_truncated_idx_file_is_named_with_expected_and_found_size(tmp_path):
    from snntorch_ms.data import DatasetCorruptError

    raw = _mnist_raw(tmp_path)
    load_dataset("mnist", root=tmp_path, train=False, download=False)  # gunzips all four
    path = raw / "t10k-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(DatasetCorruptError) as err:
        load_dataset("mnist", root=tmp_path, train=False, download=False)
    msg = str(err.value)
    assert msg.startswith(f"{path} is corrupt") and "[5, 28, 28] array" in msg
    assert f"a file of {16 + 5 * 784} bytes, but it holds 1000 bytes" in msg
    assert isinstance(err.value, data.DatasetNotFoundError)  # the CLI's one-line error
    assert len(load_dataset("mnist", root=tmp_path, train=True, download=False)) == 12


def test_idx_files_that_disagree_or_are_not_idx(tmp_path):
    from snntorch_ms.data import DatasetCorruptError

    raw = _mnist_raw(tmp_path)
    load_dataset("mnist", root=tmp_path, train=True, download=False)
    labels = raw / "train-labels-idx1-ubyte"
    _write_idx(tmp_path / "l.gz", np.arange(11) % 10)
    with gzip.open(tmp_path / "l.gz") as f:
        labels.write_bytes(f.read())
    with pytest.raises(DatasetCorruptError, match="holds 12 images but .* holds 11 labels"):
        load_dataset("mnist", root=tmp_path, train=True, download=False)
    labels.write_bytes(b"<html>not found</html>")
    with pytest.raises(DatasetCorruptError, match="not an IDX file"):
        load_dataset("mnist", root=tmp_path, train=True, download=False)


def test_truncated_gz_source_is_named(tmp_path):
    from snntorch_ms.data import DatasetCorruptError

    raw = _mnist_raw(tmp_path)
    gz = raw / "t10k-labels-idx1-ubyte.gz"
    gz.write_bytes(gz.read_bytes()[:15])
    with pytest.raises(DatasetCorruptError, match=f"{gz} is corrupt: it does not decompress"):
        load_dataset("mnist", root=tmp_path, train=False, download=False)
    assert not (raw / "t10k-labels-idx1-ubyte").exists()
    assert [p.name for p in raw.iterdir() if ".part" in p.name] == []


def test_unpacking_survives_another_process_unpacking_the_same_file(tmp_path, monkeypatch):
    # Two training processes sharing a data folder unpack it at the same time: here
    # the "other process" publishes the same file while this one is half-way through
    # writing it. With a shared temporary name the first rename took the other's
    # file away (FileNotFoundError); each call must publish a complete file.
    raw = _mnist_raw(tmp_path)
    real_copy = data.shutil.copyfileobj
    interleaved = []

    def copy_with_a_rival(fin, fout, *args):
        if not interleaved:
            interleaved.append(True)
            data._gunzip(gz, dst)  # the rival finishes first
            assert dst.is_file()
        real_copy(fin, fout, *args)

    gz, dst = raw / "t10k-labels-idx1-ubyte.gz", raw / "t10k-labels-idx1-ubyte"
    monkeypatch.setattr(data.shutil, "copyfileobj", copy_with_a_rival)
    data._gunzip(gz, dst)
    assert interleaved
    with gzip.open(gz) as f:
        assert dst.read_bytes() == f.read()
    assert sorted(p.name for p in raw.iterdir() if ".part" in p.name) == []


def test_corrupt_deflate_stream_is_named_and_leaves_nothing(tmp_path):
    from snntorch_ms.data import DatasetCorruptError

    raw = _mnist_raw(tmp_path)
    gz = raw / "t10k-images-idx3-ubyte.gz"
    blob = bytearray(gz.read_bytes())
    blob[20:40] = b"\xff" * 20  # inside the deflate data, past the gzip header
    gz.write_bytes(bytes(blob))
    with pytest.raises(DatasetCorruptError, match=f"{gz} is corrupt: it does not decompress"):
        load_dataset("mnist", root=tmp_path, train=False, download=False)
    assert not (raw / "t10k-images-idx3-ubyte").exists()
    assert [p.name for p in raw.iterdir() if ".part" in p.name] == []


def test_plain_idx_files_are_copied_from_a_source_folder(tmp_path, monkeypatch):
    src = tmp_path / "src"
    _mnist_raw(src)
    plain = tmp_path / "plain"
    plain.mkdir()
    for gz in (src / "MNIST" / "raw").glob("*.gz"):
        with gzip.open(gz) as f:
            (plain / gz.name[:-3]).write_bytes(f.read())
    raw = tmp_path / "root" / "MNIST" / "raw"
    assert data._fill_raw(raw, [plain])
    for name in data._IDX_FILES:
        assert (raw / name).read_bytes() == (plain / name).read_bytes()
    assert [p.name for p in raw.iterdir() if ".part" in p.name] == []


# ---------------------------------------------------------------- CIFAR (self-written pickles)


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
    from snntorch_ms.data import DatasetCorruptError

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


# ---------------------------------------------------------------- Tiny-ImageNet (self-written tree)


def _write_tiny(root):
    from PIL import Image

    base = root / "tiny-imagenet-200"
    wnids = ["n02", "n01", "n03"]  # unsorted on purpose: classes are the sorted wnids
    (base).mkdir(parents=True)
    (base / "wnids.txt").write_text("\n".join(wnids) + "\n")
    colours = {"n01": (255, 0, 0), "n02": (0, 255, 0), "n03": (0, 0, 255)}
    for w in wnids:
        folder = base / "train" / w / "images"
        folder.mkdir(parents=True)
        for k in range(2):
            Image.new("RGB", (64, 64), colours[w]).save(folder / f"{w}_{k}.JPEG")
        (base / "train" / w / f"{w}_boxes.txt").write_text("")
    val = base / "val" / "images"
    val.mkdir(parents=True)
    ann = []
    for i, w in enumerate(["n03", "n01", "n02", "n01"]):
        mode = "L" if i == 3 else "RGB"  # Tiny-ImageNet holds a few grey JPEGs
        colour = 76 if mode == "L" else colours[w]
        Image.new(mode, (64, 64), colour).save(val / f"val_{i}.JPEG")
        ann.append(f"val_{i}.JPEG\t{w}\t0\t0\t63\t63")
    (base / "val" / "val_annotations.txt").write_text("\n".join(ann) + "\n")
    return base


def test_tiny_imagenet_tree(tmp_path):
    _write_tiny(tmp_path)
    train = load_dataset("tiny-imagenet", root=tmp_path, train=True, download=False)
    val = load_dataset("tiny-imagenet", root=tmp_path, train=False, download=False)
    assert train.classes == ["n01", "n02", "n03"]
    assert len(train) == 6 and sorted(train.targets.tolist()) == [0, 0, 1, 1, 2, 2]
    assert val.targets.tolist() == [2, 0, 1, 0]
    x, y = val[0]
    assert x.shape == (3, 64, 64) and y == 2
    # the colour follows the label: n03 is blue in the self-written tree
    mean = torch.tensor(dataset_info("tiny-imagenet").mean)
    std = torch.tensor(dataset_info("tiny-imagenet").std)
    pixel = x[:, 32, 32] * std + mean
    assert pixel.argmax().item() == 2
    assert val[3][0].shape == (3, 64, 64)  # grey JPEG converted to RGB
    for i in range(len(train)):
        xi, yi = train[i]
        assert (xi[:, 32, 32] * std + mean).argmax().item() == yi
    paper = load_dataset("tiny-imagenet", root=tmp_path, train=True, recipe="paper", download=False)
    assert paper[0][0].shape == (3, 64, 64)


def test_tiny_imagenet_class_without_images_is_named(tmp_path):
    base = _write_tiny(tmp_path)
    for f in (base / "train" / "n02" / "images").iterdir():
        f.unlink()
    with pytest.raises(DatasetNotFoundError, match="n02"):
        load_dataset("tiny-imagenet", root=tmp_path, train=True, download=False)


def test_tiny_imagenet_missing(tmp_path):
    with pytest.raises(DatasetNotFoundError) as err:
        load_dataset("tiny-imagenet", root=tmp_path, download=False)
    msg = str(err.value)
    assert "tiny-imagenet-200" in msg and "val_annotations.txt" in msg and "wnids.txt" in msg


# ---------------------------------------------------------------- offline errors


def test_missing_cifar_without_download(tmp_path):
    for name, folder in (("cifar10", "cifar-10-batches-py"), ("cifar100", "cifar-100-python")):
        with pytest.raises(DatasetNotFoundError) as err:
            load_dataset(name, root=tmp_path, download=False)
        assert str(tmp_path / folder) in str(err.value)
        assert "cs.toronto.edu/~kriz/cifar.html" in str(err.value)
    assert issubclass(DatasetNotFoundError, FileNotFoundError)


def test_missing_cifar_download_fails_fast(tmp_path):
    """On this offline machine (and anywhere, with the network cut) download=True fails fast."""
    t0 = time.monotonic()
    with pytest.MonkeyPatch.context() as mp:
        def refuse(*args, **kwargs):
            raise OSError("network disabled by test")

        mp.setattr(socket, "create_connection", refuse)
        mp.setattr(urllib.request, "urlopen", refuse)
        with pytest.raises(DatasetNotFoundError) as err:
            load_dataset("cifar10", root=tmp_path, download=True)
    assert time.monotonic() - t0 < 10
    msg = str(err.value)
    assert str(tmp_path / "cifar-10-batches-py") in msg and "data_batch_1" in msg
    assert "failed" in msg


def test_download_error_is_converted(tmp_path):
    """A host that answers but a download that breaks still gives DatasetNotFoundError."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(data, "_reachable", lambda url, timeout=5.0: None)

        def broken(*args, **kwargs):
            raise urllib.error.URLError("connection reset")

        mp.setattr(urllib.request, "urlopen", broken)
        with pytest.raises(DatasetNotFoundError, match="cifar-100-python"):
            load_dataset("cifar100", root=tmp_path, download=True)
        with pytest.raises(DatasetNotFoundError, match="tiny-imagenet-200"):
            load_dataset("tiny-imagenet", root=tmp_path, download=True)


def test_real_network_state_fails_cleanly(tmp_path):
    """Without patches: offline this raises quickly; online it is skipped (no 170 MB download)."""
    if data._reachable("https://www.cs.toronto.edu/", timeout=3.0) is None:
        pytest.skip("network reachable: not downloading CIFAR-10 in a test")
    t0 = time.monotonic()
    with pytest.raises(DatasetNotFoundError) as err:
        load_dataset("cifar10", root=tmp_path, download=True)
    assert time.monotonic() - t0 < 15
    assert str(tmp_path / "cifar-10-batches-py") in str(err.value)


def test_workers_give_the_same_batches():
    ds = subset(load_dataset("digits", recipe="paper"), 150, seed=0)

    def batches(num_workers):
        loader = make_loader(ds, 64, train=True, seed=5, num_workers=num_workers)
        set_epoch(loader, 2)
        return list(loader)

    for (xa, ya), (xb, yb) in zip(batches(0), batches(2)):
        assert torch.equal(xa, xb) and torch.equal(ya, yb)


def test_cifar10_from_tarball_in_root(tmp_path):
    import shutil
    import tarfile

    folder = _write_cifar10(tmp_path, per_batch=2)
    with tarfile.open(tmp_path / "cifar-10-python.tar.gz", "w:gz") as tar:
        tar.add(folder, arcname="cifar-10-batches-py")
    shutil.rmtree(folder)
    ds = load_dataset("cifar10", root=tmp_path, train=False, download=False)
    assert len(ds) == 2 and (folder / "test_batch").is_file()
