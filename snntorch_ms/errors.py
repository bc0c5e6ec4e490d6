"""The package's one type of error a user can fix.

Every error that a person can fix by changing what they asked for (a missing or
corrupt dataset, an unusable checkpoint, a bad setting or flag) derives from
:class:`UserError` as well as from the built-in type it is (``ValueError``,
``FileNotFoundError``, ``RuntimeError``), so ``except ValueError`` keeps working.
The command line prints a :class:`UserError` on one line and exits with status 2;
any other exception is a bug and keeps its traceback.

The neuron and its functional core raise plain built-in errors: they import
nothing from the rest of the package, so that they could move into snntorch as
they are.
"""

from __future__ import annotations

__all__ = ["UserError"]  # the dataset errors are documented (and imported) as snntorch_ms.data's


class UserError(Exception):
    """Base of every error a user can fix; the message says what to change.

    Example::

        >>> from snntorch_ms.data import DatasetNotFoundError
        >>> issubclass(DatasetNotFoundError, UserError)
        True
    """


class DatasetNotFoundError(UserError, FileNotFoundError):
    """A dataset is missing locally and could not be downloaded.

    A :class:`~snntorch_ms.errors.UserError` and a :class:`FileNotFoundError`; the message names the files or
    folders to put where, and the address to fetch them from.

    Example::

        >>> from snntorch_ms.data import load_dataset
        >>> try:
        ...     load_dataset("cifar10", root="/nonexistent", download=False)
        ... except DatasetNotFoundError as err:
        ...     print("cifar-10-batches-py" in str(err))
        True
    """


class DatasetCorruptError(DatasetNotFoundError):
    """A dataset file is present but unusable (truncated, wrong format).

    A subclass of :class:`~snntorch_ms.data.DatasetNotFoundError`, since either way the dataset
    cannot be used from where it was looked for; the message names the file,
    what was expected of it and how to replace it.

    Example::

        >>> issubclass(DatasetCorruptError, DatasetNotFoundError)
        True
    """
