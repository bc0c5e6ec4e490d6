"""snntorch_ms.data.download: a missing dataset is a clear error, offline it fails fast,
and a broken download is converted."""

import socket
import time
import urllib.error
import urllib.request

import pytest

from snntorch_ms.data import DatasetNotFoundError, download, load_dataset


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
        mp.setattr(download, "reachable", lambda url, timeout=5.0: None)

        def broken(*args, **kwargs):
            raise urllib.error.URLError("connection reset")

        mp.setattr(urllib.request, "urlopen", broken)
        with pytest.raises(DatasetNotFoundError, match="cifar-100-python"):
            load_dataset("cifar100", root=tmp_path, download=True)
        with pytest.raises(DatasetNotFoundError, match="tiny-imagenet-200"):
            load_dataset("tiny-imagenet", root=tmp_path, download=True)


def test_real_network_state_fails_cleanly(tmp_path):
    """Without patches: offline this raises quickly; online it is skipped (no 170 MB download)."""
    if download.reachable("https://www.cs.toronto.edu/", timeout=3.0) is None:
        pytest.skip("network reachable: not downloading CIFAR-10 in a test")
    t0 = time.monotonic()
    with pytest.raises(DatasetNotFoundError) as err:
        load_dataset("cifar10", root=tmp_path, download=True)
    assert time.monotonic() - t0 < 15
    assert str(tmp_path / "cifar-10-batches-py") in str(err.value)
