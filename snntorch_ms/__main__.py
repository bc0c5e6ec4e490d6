"""``python -m snntorch_ms``: the ``snntorch-ms`` command line (see :mod:`snntorch_ms.cli`)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
