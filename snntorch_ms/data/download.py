"""Downloads that fail fast offline, and fail as :class:`~snntorch_ms.data.DatasetNotFoundError`.

A download first checks that the host accepts a TCP connection within
:data:`CONNECT_TIMEOUT` seconds (:func:`reachable`), then runs with a socket timeout
of :data:`SOCKET_TIMEOUT` seconds, so an offline machine fails in well under a
second instead of hanging. Any error of the transfer or the unpacking becomes a
:class:`~snntorch_ms.data.DatasetNotFoundError` whose message says what to put where
and why the download failed. The transfers themselves are torchvision's
(:func:`~torchvision.datasets.utils.download_and_extract_archive`, or a torchvision
dataset's own ``download=True``).
"""

from __future__ import annotations

import os
import socket
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Optional

from .registry import DatasetNotFoundError

__all__ = ["CONNECT_TIMEOUT", "SOCKET_TIMEOUT", "reachable", "socket_timeout",
           "download_with", "download_archive"]

#: Seconds to reach a download host.
CONNECT_TIMEOUT = 5.0
#: Seconds of silence before a running download gives up.
SOCKET_TIMEOUT = 60.0

_DOWNLOAD_ERRORS = (OSError, RuntimeError, urllib.error.URLError, EOFError, tarfile.TarError)


def reachable(url: str, timeout: float = CONNECT_TIMEOUT) -> Optional[str]:
    """Return ``None`` if ``url``'s host accepts a TCP connection, else the reason.

    With a proxy configured in the environment the check is left to the download
    itself (which runs with a socket timeout).

    :param url: the address to be downloaded.
    :type url: str
    :param timeout: seconds to wait for the connection. Defaults to
        :data:`CONNECT_TIMEOUT`.
    :type timeout: float, optional
    :rtype: str or None

    Example::

        >>> server = socket.create_server(("127.0.0.1", 0))
        >>> reachable(f"http://127.0.0.1:{server.getsockname()[1]}/data.zip") is None
        True
        >>> server.close()
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
def socket_timeout(seconds: float):
    """Run the block with the default socket timeout set to ``seconds``; restore it after.

    Example::

        >>> with socket_timeout(3.0):
        ...     socket.getdefaulttimeout()
        3.0
    """
    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(old)


def download_with(fetch: Callable[[], object], url: str, what: str) -> None:
    """Run ``fetch()``, a download from ``url``; any failure is a
    :class:`~snntorch_ms.data.DatasetNotFoundError`.

    The host must answer first (:func:`reachable`); ``fetch`` then runs under
    :func:`socket_timeout` (:data:`SOCKET_TIMEOUT`), and its network, file and
    archive errors become a :class:`~snntorch_ms.data.DatasetNotFoundError`.

    :param fetch: the download, e.g. a torchvision dataset built with ``download=True``.
    :type fetch: callable
    :param url: the address it downloads from (checked, and named in the message).
    :type url: str
    :param what: the first lines of the error message: what is missing, where to put it.
    :type what: str
    :raises DatasetNotFoundError: unreachable host or failed download.

    Example::

        >>> def fetch():
        ...     raise OSError("no space left on device")
        >>> try:
        ...     download_with(fetch, "http://127.0.0.1:9/x.zip", "x not found.")
        ... except DatasetNotFoundError as err:
        ...     print(str(err).splitlines()[1].split(" failed")[0])
        Download from http://127.0.0.1:9/x.zip
    """
    reason = reachable(url)
    if reason is not None:
        raise DatasetNotFoundError(
            f"{what}\nDownload from {url} failed: host unreachable ({reason}).")
    try:
        with socket_timeout(SOCKET_TIMEOUT):
            fetch()
    except _DOWNLOAD_ERRORS as err:
        raise DatasetNotFoundError(
            f"{what}\nDownload from {url} failed: {type(err).__name__}: {err}") from err


def download_archive(url: str, root: Path, filename: str, md5: Optional[str], what: str) -> None:
    """Download the archive ``url`` into ``root`` and extract it there (torchvision's
    :func:`~torchvision.datasets.utils.download_and_extract_archive`, run by
    :func:`download_with`).

    :param url: the archive's address.
    :type url: str
    :param root: the folder to download into and extract in.
    :type root: pathlib.Path
    :param filename: the archive's file name in ``root``.
    :type filename: str
    :param md5: the archive's checksum, or ``None`` to skip the check.
    :type md5: str or None
    :param what: the first lines of the error message.
    :type what: str
    :raises DatasetNotFoundError: no torchvision, unreachable host or failed download.

    Example::

        >>> download_archive("https://example.org/d.zip", Path("data"), "d.zip",
        ...                  None, "d not found.")  # doctest: +SKIP
    """
    try:
        from torchvision.datasets.utils import download_and_extract_archive
    except ImportError as err:  # pragma: no cover - torchvision is a 'train' extra
        raise DatasetNotFoundError(f"{what}\nDownloading needs torchvision ({err}).") from err
    download_with(lambda: download_and_extract_archive(url, str(root), filename=filename, md5=md5),
                  url, what)


def publish_file(dst: Path, write: Callable[[object], None]) -> None:
    """Write a file through a private temporary file beside ``dst`` (``write`` gets the
    open binary file), flush it to disk, then rename it into place, readable by all.

    The temporary name is unique to this call, so processes that fill a shared data
    folder or cache at the same time each publish a complete file (the last rename
    wins; all of them hold the same bytes) instead of renaming each other's
    half-written one. Nothing is left behind when reading or writing fails.
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{dst.name}.", suffix=".part", dir=dst.parent)
    try:
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide a shared file from other users
        with os.fdopen(fd, "wb") as out:
            write(out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, dst)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
