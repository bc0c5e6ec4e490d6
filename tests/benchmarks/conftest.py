"""Shared by the tests of the scripts under ``benchmarks/`` (not a package)."""

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load(name):
    # the scripts import their shared helpers (benchmarks/experiment.py) as a script
    # run from benchmarks/ would
    if str(ROOT / "benchmarks") not in sys.path:
        sys.path.insert(0, str(ROOT / "benchmarks"))
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def load_script():
    """``load_script(name)`` imports ``benchmarks/<name>.py`` (the scripts are not
    installed) as a module."""
    return _load
