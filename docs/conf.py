"""Sphinx configuration of the snntorch-ms documentation.

Build (warnings are errors, as in ``make docs``)::

    .venv/bin/python -m sphinx -W --keep-going -q -b html docs docs/_build/html

The tutorials live in ``tutorials/`` at the repository root as MyST text notebooks;
they are copied into ``docs/tutorials/`` (ignored by git) and executed by myst-nb
during the build. A failing cell fails the build. Executed notebooks are cached in
``docs/_build/.jupyter_cache/<hash of the package sources>`` keyed by their code: a
change to a notebook re-executes that notebook, a change to the package
re-executes all of them and re-reads every page. Set
``SNNTORCH_MS_NB_EXECUTION=force`` to re-run them anyway, or ``off`` to skip
execution while editing prose.
"""

from __future__ import annotations

import filecmp
import hashlib
import os
import shutil
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(DOCS / "_ext"))

import snntorch_ms  # noqa: E402

# -- project -----------------------------------------------------------------

project = "snntorch-ms"
author = "the snntorch-ms contributors"
copyright = "2026, the snntorch-ms contributors"
release = snntorch_ms.__version__
version = ".".join(release.split(".")[:2])

# -- extensions ----------------------------------------------------------------

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "myst_nb",
    # MathJax 3 served from the build (_static/mathjax/), not from a CDN, so that math
    # renders on a machine without internet; a packaged copy (PyPI's
    # sphinx-mathjax-offline, MathJax 3.2.2, 6 MB) rather than Debian's libjs-mathjax,
    # which is MathJax 2 and would need apt on every machine that builds the docs
    "sphinx-mathjax-offline",
    # docs/_ext: links to torch, snntorch and Python names without intersphinx
    # (which fetches inventories online and fails an offline -W build), and each
    # tutorial's executed notebook offered for download
    "external_links",
    "notebooks",
]

# Every cross-reference must resolve (to our API or, through external_links, to the
# upstream docs of torch, snntorch, Python): a dead link is a build error under -W.
nitpicky = True
nitpick_ignore = [
    # words of numpydoc-style type fields (":type x: int, optional"), not names
    ("py:class", word) for word in ("optional", "callable", "sequence", "iterable",
                                    "collection", "ignored")
]
nitpick_ignore_regex = [
    (r"py:.*", r"snntorch_ms(\.\w+)*\._\w+"),   # private base classes in "Bases:"
]

autodoc_member_order = "bysource"
autodoc_typehints = "none"          # signatures keep the defaults; types are in :type:
autodoc_default_options = {"show-inheritance": True}
autoclass_content = "class"
# no docstrings inherited from torch (nn.Module.forward, autograd.Function.forward, ...)
autodoc_inherit_docstrings = False

myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3

# -- notebooks (myst-nb) ---------------------------------------------------------



def _package_hash() -> str:
    """A hash of the package's sources: notebooks and API pages depend on them."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "snntorch_ms").rglob("*.py")):
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


PACKAGE_HASH = _package_hash()
_CACHE_ROOT = DOCS / "_build" / ".jupyter_cache"

nb_execution_mode = os.environ.get("SNNTORCH_MS_NB_EXECUTION", "cache")
# One cache per version of the package sources: a change to the package re-executes
# every notebook, a change to a notebook only that notebook.
nb_execution_cache_path = str(_CACHE_ROOT / PACKAGE_HASH)
nb_execution_timeout = 900            # seconds per notebook
nb_execution_raise_on_error = True    # a failing cell fails the build
nb_execution_show_tb = True
nb_execution_in_temp = True           # files written by a tutorial stay out of docs/
nb_merge_streams = True

# -- sources -------------------------------------------------------------------

exclude_patterns = ["_build", "results", "Thumbs.db", ".DS_Store", "**.ipynb_checkpoints"]
root_doc = "index"

# -- HTML ----------------------------------------------------------------------

html_theme = "sphinx_rtd_theme"
html_theme_options = {"navigation_depth": 3, "collapse_navigation": False}
html_title = f"snntorch-ms {release}"
html_static_path = ["_static"]
# wrapping table cells and display math that fits the column (docs/_static/custom.css)
html_css_files = ["custom.css"]
html_js_files = ["fit-math.js"]   # display math scaled to the column when too wide


def _sync_tutorials() -> None:
    """Mirror ``tutorials/*.md`` and ``*.ipynb`` into ``docs/tutorials/``.

    Files are copied only when their content changed, so Sphinx and the notebook
    cache see unchanged tutorials as unchanged; copies of deleted tutorials are
    removed.
    """
    src, dst = ROOT / "tutorials", DOCS / "tutorials"
    dst.mkdir(exist_ok=True)
    wanted = {p.name: p for p in sorted(src.glob("*")) if p.suffix in (".md", ".ipynb")}
    for old in dst.iterdir():
        if old.name not in wanted and old.name != ".gitignore":
            old.unlink() if old.is_file() else shutil.rmtree(old)
    for name, path in wanted.items():
        target = dst / name
        if not target.exists() or not filecmp.cmp(path, target, shallow=False):
            shutil.copyfile(path, target)


def _prune_caches() -> None:
    """Drop notebook caches made for other versions of the package sources."""
    if _CACHE_ROOT.is_dir():
        for old in _CACHE_ROOT.iterdir():
            if old.is_dir() and old.name != PACKAGE_HASH:
                shutil.rmtree(old, ignore_errors=True)


def _outdated(app, env, added, changed, removed):
    """Re-read every page when the package sources changed since the last build, so
    that autodoc output, warnings and notebook outputs are never stale."""
    if getattr(env, "snntorch_ms_package_hash", None) != PACKAGE_HASH:
        env.snntorch_ms_package_hash = PACKAGE_HASH
        return sorted(env.found_docs - set(added) - set(changed) - set(removed))
    return []


def setup(app):
    app.connect("env-get-outdated", _outdated)


_sync_tutorials()
_prune_caches()
