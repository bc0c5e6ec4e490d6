"""The rendered-docs check (tools/check_site.py) fails on what it is for.

Tiny pages laid out like the Sphinx site (a ``[role=main]`` column) are rendered in
headless Chromium: a clean page passes, and raw TeX, a broken image, a wide table
and an equation wider than the column are each reported. Needs Debian's chromium
and chromium-driver (``make test`` installs them) and selenium (the test extra).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

pytest.importorskip("selenium")
if not (shutil.which("chromium") or shutil.which("chromium-browser")) or not shutil.which("chromedriver"):
    pytest.skip("needs chromium and chromedriver (apt-get install chromium chromium-driver)",
                allow_module_level=True)

import check_site  # noqa: E402

PAGE = """<!doctype html><html><head><meta charset="utf-8">
<style>body {{ margin: 0 }} [role=main] {{ width: 600px; margin-left: 100px }}
.wy-table-responsive {{ overflow: auto }} td {{ white-space: nowrap }}</style></head>
<body><div role="main"><h1>Title</h1>{body}</div></body></html>"""


@pytest.fixture(scope="module")
def driver():
    drv = check_site.browser(1280)
    yield drv
    drv.quit()


def _problems(driver, tmp_path, body, name="page.html"):
    page = tmp_path / name
    page.write_text(PAGE.format(body=body))
    return [kind for kind, _ in check_site.check_page(driver, page)]


def test_a_clean_page_passes(driver, tmp_path):
    (tmp_path / "dot.png").write_bytes(_PNG)
    body = ('<p>Text with code <code>\\frac{a}{b}</code> and an image.</p>'
            '<img src="dot.png"><pre style="overflow: auto">' + "x" * 300 + '</pre>')
    assert _problems(driver, tmp_path, body) == []


def test_raw_tex_is_reported(driver, tmp_path):
    assert "raw TeX" in _problems(driver, tmp_path, "<p>$$U_t = \\beta U_{t-1}$$</p>")
    # a math element that no MathJax typeset
    assert "raw TeX" in _problems(driver, tmp_path, '<div class="math">\\(x^2\\)</div>')


def test_a_broken_image_is_reported(driver, tmp_path):
    assert "broken image" in _problems(driver, tmp_path, '<img src="missing.png">')


def test_a_table_wider_than_the_column_is_reported(driver, tmp_path):
    row = "".join(f"<td>a rather long cell number {i}</td>" for i in range(8))
    body = f'<div class="wy-table-responsive"><table><tr>{row}</tr></table></div>'
    assert "overflow" in _problems(driver, tmp_path, body)


def test_content_past_the_column_is_reported(driver, tmp_path):
    body = '<div style="width: 900px">a display equation, too wide</div>'
    assert "overflow" in _problems(driver, tmp_path, body)


# a 1x1 PNG
_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082")
