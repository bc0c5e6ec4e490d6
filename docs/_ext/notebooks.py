"""Each tutorial page offers its Jupyter notebook, with outputs, for download.

The tutorials have one source, the MyST text files in ``tutorials/``. myst-nb
executes them during the build and writes each executed notebook into its output
folder (``docs/_build/jupyter_execute/``). When a tutorial page has been read, this
extension

1. writes that notebook, cleaned up for Jupyter (:func:`for_jupyter`), to
   ``docs/_build/notebooks/<name>.ipynb``: MyST roles (``{class}`...```), which
   Jupyter would show as raw text, become code spans or the titles of the pages they
   name; the build-only metadata (``source_map``, ``jupytext``) is dropped; outputs
   are kept;
2. puts a download link to it under the page title, so Sphinx copies it into the
   site (``_downloads/``).

The first code cell of every tutorial is its install cell (tagged
``skip-execution``, so the build does not run it): snntorch-ms is not on a public
package index yet, and a notebook user installs it from a source folder or a wheel.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
from docutils import nodes
from sphinx import addnodes

TUTORIALS = "tutorials/"

# {role}`text <target>`  or  {role}`~a.b.c`  or  {role}`a.b.c`
_ROLE = re.compile(r"\{(?P<role>[a-z:-]+)\}`(?P<body>[^`]+)`")
_EXPLICIT = re.compile(r"^(?P<text>.*?)\s*<(?P<target>[^<>]+)>$", re.S)


def _role_to_markdown(match: re.Match, titles: dict) -> str:
    role, body = match["role"], match["body"]
    explicit = _EXPLICIT.match(body)
    text, target = (explicit["text"], explicit["target"]) if explicit else (None, body)
    if role == "doc":
        return f"*{text or titles.get(target, target.rsplit('/', 1)[-1])}*"
    if role in ("math", "eq"):
        return f"${body}$"
    if text:
        return f"`{text}`"
    if target.startswith("~"):
        target = target[1:].rsplit(".", 1)[-1]
    target = target.lstrip(".")
    if role in ("func", "meth"):
        target += "()"
    return f"`{target}`"


_ROLE_OR_CODE = re.compile(r"(?P<role>\{[a-z:-]+\}`[^`]+`)|(?P<code>(`+)[^`]*?\3)")


def markdown_for_jupyter(source: str, titles: dict | None = None) -> str:
    """MyST markdown with its roles rewritten as plain Markdown (code spans, or the
    title of a documentation page for ``{doc}``); code spans are left alone."""
    titles = titles or {}

    def one(match: re.Match) -> str:
        if match["code"]:
            return match["code"]
        return _ROLE.sub(lambda m: _role_to_markdown(m, titles), match["role"])

    return _ROLE_OR_CODE.sub(one, source)


def for_jupyter(notebook: nbformat.NotebookNode, titles: dict | None = None):
    """The notebook myst-nb executed, as a Jupyter user should get it (in place)."""
    for key in ("source_map", "jupytext"):
        notebook.metadata.pop(key, None)
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            cell.source = markdown_for_jupyter(cell.source, titles)
    nbformat.validate(notebook)
    return notebook


def notebook_folder(app) -> Path:
    return Path(app.env.mystnb_config.output_folder).parent / "notebooks"


def _page_titles(env, docname: str) -> dict:
    """``{doc}`` targets as written from ``docname`` -> page titles."""
    base = docname.rsplit("/", 1)[0] if "/" in docname else ""
    titles = {}
    for other, title in env.titles.items():
        rel = Path(other).as_posix()
        titles[other] = title.astext()
        if base and not other.startswith(base + "/"):
            titles["../" + rel] = title.astext()
        elif base:
            titles[rel[len(base) + 1:]] = title.astext()
    return titles


def add_download(app, doctree):
    """doctree-read (before Sphinx collects download files): write the cleaned
    notebook and link it under the title of a tutorial page."""
    docname = app.env.docname
    if not docname.startswith(TUTORIALS):
        return
    executed = Path(app.env.mystnb_config.output_folder) / f"{docname}.ipynb"
    if not executed.is_file():
        raise FileNotFoundError(f"myst-nb wrote no notebook for {docname} ({executed})")
    notebook = for_jupyter(nbformat.read(executed, as_version=4),
                           _page_titles(app.env, docname))
    target = notebook_folder(app) / f"{Path(docname).name}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, target)

    rel = "/" + _relpath(target, app.srcdir)      # a download path from the source root
    link = addnodes.download_reference("", "", reftarget=rel, refdoc=docname,
                                       refexplicit=True, refdomain="", reftype="download")
    link += nodes.literal("", target.name, classes=["xref", "download"])
    para = nodes.paragraph(classes=["notebook-download"])
    para += nodes.Text("Run it yourself: download this tutorial as a Jupyter notebook, "
                       "with its outputs: ")
    para += link
    para += nodes.Text(" (its first cell installs snntorch-ms from your copy of the "
                       "source or from a wheel; see ")
    install = addnodes.pending_xref("", refdomain="std", reftype="doc",
                                    reftarget="/installation", refexplicit=True,
                                    refdoc=docname)
    install += nodes.inline("", "Installation")
    para += install
    para += nodes.Text(").")
    section = next(iter(doctree.findall(nodes.section)), None)
    if section is None or not isinstance(section[0], nodes.title):
        raise ValueError(f"{docname}: a tutorial starts with a title")
    section.insert(1, para)


def _relpath(path, start) -> str:
    import os

    return Path(os.path.relpath(Path(path).resolve(), Path(start).resolve())).as_posix()


def setup(app):
    # before sphinx.environment.collectors.asset.DownloadFileCollector (priority 500)
    app.connect("doctree-read", add_download, priority=400)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
