"""snntorch_ms.data.sources.mnist: Debian's Fashion-MNIST, self-written IDX files, and
the corrupt files torchvision's reader does not catch."""

import gzip
from pathlib import Path

import numpy as np
import pytest
import torch

from snntorch_ms.data import DatasetCorruptError, DatasetNotFoundError, load_dataset
from snntorch_ms.data.sources import mnist

DEBIAN_FMNIST = Path("/usr/share/datasets/fashion-mnist")


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

    raw = _mnist_raw(tmp_path)
    load_dataset("mnist", root=tmp_path, train=False, download=False)  # gunzips all four
    path = raw / "t10k-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(DatasetCorruptError) as err:
        load_dataset("mnist", root=tmp_path, train=False, download=False)
    msg = str(err.value)
    assert msg.startswith(f"{path} is corrupt") and "[5, 28, 28] array" in msg
    assert f"a file of {16 + 5 * 784} bytes, but it holds 1000 bytes" in msg
    assert isinstance(err.value, DatasetNotFoundError)  # the CLI's one-line error
    assert len(load_dataset("mnist", root=tmp_path, train=True, download=False)) == 12


def test_idx_files_that_disagree_or_are_not_idx(tmp_path):

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
    real_copy = mnist.shutil.copyfileobj
    interleaved = []

    def copy_with_a_rival(fin, fout, *args):
        if not interleaved:
            interleaved.append(True)
            mnist._gunzip(gz, dst)  # the rival finishes first
            assert dst.is_file()
        real_copy(fin, fout, *args)

    gz, dst = raw / "t10k-labels-idx1-ubyte.gz", raw / "t10k-labels-idx1-ubyte"
    monkeypatch.setattr(mnist.shutil, "copyfileobj", copy_with_a_rival)
    mnist._gunzip(gz, dst)
    assert interleaved
    with gzip.open(gz) as f:
        assert dst.read_bytes() == f.read()
    assert sorted(p.name for p in raw.iterdir() if ".part" in p.name) == []


def test_corrupt_deflate_stream_is_named_and_leaves_nothing(tmp_path):

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
    assert mnist._fill_raw(raw, [plain])
    for name in mnist._IDX_FILES:
        assert (raw / name).read_bytes() == (plain / name).read_bytes()
    assert [p.name for p in raw.iterdir() if ".part" in p.name] == []
