"""Render the built documentation in a real browser and fail on what a reader would see.

Every HTML page of the site is opened in headless Chromium at a window width of
1280 px, after MathJax has typeset it, and checked for

* **raw TeX**: a math element MathJax did not typeset (or typeset as an error), or
  TeX source (``$$``, ``\\frac``, ``\\theta``...) in the visible text outside code;
* **broken images**: an ``<img>`` that did not load;
* **overflow**: anything in the main column wider than the column, or a table or
  equation that needs a horizontal scroll bar (code blocks may scroll, as in every
  Sphinx theme: their lines are code);
* on each tutorial page, the **notebook download**: a link to an ``.ipynb`` that is a
  valid notebook with outputs, an install cell first and no MyST roles left.

A full-page screenshot of the index and of each tutorial is written for a person to
look at (``docs/_build/screenshots/`` by default).

Usage::

    python tools/check_site.py [docs/_build/html] [--screenshots DIR] [--width 1280]

The browser is Debian's ``chromium`` driven through Debian's ``chromium-driver`` by
Selenium (``pip install selenium``, in the ``test`` extra): Selenium is the W3C
WebDriver reference client, and given the driver's path it needs no network, whereas
Playwright and pyppeteer download a browser build of their own. Paths can be set
with ``CHROMIUM`` and ``CHROMEDRIVER``.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import sys
import time
from pathlib import Path
from urllib.parse import unquote, urlparse

SKIP_PAGES = {"search.html", "genindex.html", "py-modindex.html"}   # generated lists

# JavaScript run in each page once MathJax is done; returns a list of problems
_CHECKS = r"""
const problems = [];
const main = document.querySelector('[role=main]') || document.body;
const col = main.getBoundingClientRect();
const inCode = el => el.closest('pre, code, .highlight, script, style, textarea');
const describe = el => {
  const id = el.id || (el.closest('[id]') || {}).id || '';
  const text = (el.innerText || el.textContent || '').trim().replace(/\s+/g, ' ').slice(0, 70);
  return `<${el.tagName.toLowerCase()}${el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\s+/).join('.') : ''}> near #${id}: "${text}"`;
};
// raw TeX: math elements without typeset output, typeset errors, TeX in the text
for (const el of document.querySelectorAll('.math, span.math, div.math')) {
  if (!el.querySelector('mjx-container')) problems.push(['raw TeX', describe(el)]);
}
for (const el of document.querySelectorAll('mjx-merror, merror, [data-mjx-error]')) {
  problems.push(['TeX error', describe(el.closest('.math') || el) + ' ' + (el.getAttribute('data-mjx-error') || '')]);
}
const tex = /\$\$|\\\(|\\\[|\\(frac|tfrac|mathrm|left|right|begin|theta|beta|Omega|qquad|lceil|cdot|sum)\b/;
const walker = document.createTreeWalker(main, NodeFilter.SHOW_TEXT);
for (let node = walker.nextNode(); node; node = walker.nextNode()) {
  const el = node.parentElement;
  if (!el || inCode(el) || el.closest('mjx-container, .math')) continue;
  if (tex.test(node.textContent) && el.offsetParent !== null) problems.push(['raw TeX', describe(el)]);
}
// images that did not load
for (const img of document.images) {
  if (!img.complete || img.naturalWidth === 0) problems.push(['broken image', img.getAttribute('src')]);
}
// overflow of the main column, and boxes that scroll sideways
if (document.documentElement.scrollWidth > window.innerWidth + 1) {
  problems.push(['overflow', `the page is ${document.documentElement.scrollWidth - window.innerWidth} px wider than the window`]);
}
const reported = new Set();
for (const el of main.querySelectorAll('*')) {
  if (inCode(el) || [...reported].some(r => r.contains(el))) continue;
  const style = getComputedStyle(el);
  const r = el.getBoundingClientRect();
  if (r.width === 0 || style.visibility === 'hidden' || el.closest('mjx-assistive-mml')) continue;
  if (r.right > col.right + 1) {
    problems.push(['overflow', `${Math.round(r.right - col.right)} px past the column: ${describe(el)}`]);
    reported.add(el);
  } else if (['auto', 'scroll'].includes(style.overflowX) && el.scrollWidth > el.clientWidth + 1) {
    problems.push(['overflow', `scrolls sideways by ${el.scrollWidth - el.clientWidth} px: ${describe(el)}`]);
    reported.add(el);
  }
}
return problems;
"""

_WAIT_MATHJAX = r"""
const done = arguments[arguments.length - 1];
const start = Date.now();
(function wait() {
  const mathjax = document.querySelector('script[src*="mathjax" i], script[src*="tex-chtml"]');
  if (document.readyState === 'complete' && (!document.querySelector('.math') || !mathjax ||
      (window.MathJax && MathJax.startup && MathJax.startup.promise))) {
    const p = (window.MathJax && MathJax.startup) ? MathJax.startup.promise : Promise.resolve();
    p.then(() => done(true), () => done(false));
  } else if (Date.now() - start > 20000) {
    done(false);
  } else {
    setTimeout(wait, 50);
  }
})();
"""


def browser(width: int):
    """Headless Chromium through Debian's chromedriver (no download, no network)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    driver = os.environ.get("CHROMEDRIVER") or shutil.which("chromedriver")
    if not chromium or not driver:
        sys.exit("check_site: needs chromium and chromedriver (Debian: apt-get install "
                 "chromium chromium-driver; or set CHROMIUM and CHROMEDRIVER)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--hide-scrollbars", "--allow-file-access-from-files",
                f"--window-size={width},1000", "--force-device-scale-factor=1"):
        options.add_argument(arg)
    drv = webdriver.Chrome(options=options, service=Service(driver))
    drv.set_script_timeout(30)
    drv.set_page_load_timeout(60)
    # the window size includes the browser frame in some versions: fix the viewport
    drv.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                        {"width": width, "height": 1000, "deviceScaleFactor": 1, "mobile": False})
    return drv


def check_page(drv, path: Path) -> list:
    drv.get(path.resolve().as_uri())
    if not drv.execute_async_script(_WAIT_MATHJAX):
        return [["raw TeX", "MathJax did not finish typesetting within 20 s"]]
    return drv.execute_script(_CHECKS)


def screenshot(drv, target: Path) -> None:
    """A full-page PNG of the page currently open."""
    size = drv.execute_script(
        "return [document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
    shot = drv.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": size[0], "height": size[1], "scale": 1}})
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(base64.b64decode(shot["data"]))


def check_notebook_links(drv, page: Path) -> list:
    """The page links its notebook; the notebook is one a Jupyter user can run."""
    import nbformat

    hrefs = drv.execute_script(
        "return [...document.querySelectorAll('a.download, a[download], a')]"
        ".map(a => a.getAttribute('href') || '').filter(h => h.endsWith('.ipynb'))")
    if not hrefs:
        return [["notebook", "no download link to the tutorial's .ipynb"]]
    problems = []
    for href in sorted(set(hrefs)):
        file = (page.parent / unquote(urlparse(href).path)).resolve()
        if not file.is_file():
            problems.append(["notebook", f"{href}: no such file in the site"])
            continue
        nb = nbformat.read(file, as_version=4)
        try:
            nbformat.validate(nb)
        except nbformat.ValidationError as err:
            problems.append(["notebook", f"{href}: invalid notebook: {err}"])
        code = [c for c in nb.cells if c.cell_type == "code"]
        if not code or "pip install" not in code[0].source:
            problems.append(["notebook", f"{href}: the first code cell is not the install cell"])
        ran = [c for c in code[1:] if c.get("execution_count")]
        if len(ran) < len(code) - 1:
            problems.append(["notebook", f"{href}: {len(code) - 1 - len(ran)} code cells "
                                         "were not executed"])
        if not any(c.outputs for c in code):
            problems.append(["notebook", f"{href}: no outputs"])
        roles = [c.source for c in nb.cells if c.cell_type == "markdown"
                 and ("{class}`" in c.source or "{func}`" in c.source or "{doc}`" in c.source)]
        if roles:
            problems.append(["notebook", f"{href}: MyST roles left in {len(roles)} markdown cells"])
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("site", nargs="?", default="docs/_build/html")
    parser.add_argument("--screenshots", default=None,
                        help="folder for the screenshots (default: <site>/../screenshots)")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--tutorials", default="tutorials",
                        help="pages under this folder of the site must offer a notebook")
    args = parser.parse_args(argv)
    site = Path(args.site)
    shots = Path(args.screenshots) if args.screenshots else site.parent / "screenshots"
    pages = sorted(p for p in site.rglob("*.html")
                   if p.name not in SKIP_PAGES and not p.relative_to(site).parts[0].startswith("_"))
    if not pages:
        sys.exit(f"check_site: no HTML pages under {site}")
    start = time.perf_counter()
    drv = browser(args.width)
    failures = {}
    try:
        for page in pages:
            rel = page.relative_to(site).as_posix()
            problems = check_page(drv, page)
            tutorial = rel.startswith(args.tutorials + "/")
            if tutorial:
                problems += check_notebook_links(drv, page)
            if rel == "index.html" or tutorial:
                screenshot(drv, shots / (rel[:-5].replace("/", "_") + ".png"))
            if problems:
                failures[rel] = problems
    finally:
        drv.quit()
    seconds = time.perf_counter() - start
    for rel, problems in failures.items():
        for kind, what in problems:
            print(f"{rel}: {kind}: {what}")
    print(f"check_site: {len(pages)} pages at {args.width} px in {seconds:.0f} s, "
          f"{sum(map(len, failures.values()))} problems; screenshots in {shots}")
    if os.environ.get("CHECK_SITE_JSON"):
        Path(os.environ["CHECK_SITE_JSON"]).write_text(json.dumps(failures, indent=1))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
