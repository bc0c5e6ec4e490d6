"""The package's one type of error a user can fix.

Every error that a person can fix by changing what they asked for (a missing or
corrupt dataset, an unusable checkpoint, a bad setting or flag) derives from
:class:`UserError` as well as from the built-in type it is (``ValueError``,
``FileNotFoundError``, ``RuntimeError``), so ``except ValueError`` keeps working.
The command line prints a :class:`UserError` on one line and exits with status 2;
any other exception is a bug and keeps its traceback.

The dataset errors (:class:`~snntorch_ms.data.DatasetNotFoundError`,
:class:`~snntorch_ms.data.DatasetCorruptError`) live with the data package, in
:mod:`snntorch_ms.data.registry`. The neuron and its functional core raise plain
built-in errors: they import nothing from the rest of the package, so that they
could move into snntorch as they are.
"""

from __future__ import annotations

__all__ = ["UserError"]


class UserError(Exception):
    """Base of every error a user can fix; the message says what to change.

    Example::

        >>> from snntorch_ms.data import DatasetNotFoundError
        >>> issubclass(DatasetNotFoundError, UserError)
        True
    """

