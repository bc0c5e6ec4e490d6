# Two entry points (see README): `make train` runs the main job, `make test` the whole suite.
# Both create .venv on first use; `make test` also installs the Debian data package and
# Chromium (for the rendered-docs check) when they are missing.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat setup.cfg pyproject.toml | cksum | cut -d' ' -f1)
FMNIST := /usr/share/datasets/fashion-mnist

.PHONY: setup data browser train test docs site-check dist wheel-check bench clean

setup: $(STAMP)

$(STAMP): setup.cfg pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check torch==2.14.1 torchvision==0.29.1
	$(PY) -m pip install -q --disable-pip-version-check -e '.[train,docs,test]'
	rm -f $(VENV)/.installed-* && touch $@

# genuine Fashion-MNIST for the real-data tests (Debian package, works offline)
data:
	@test -d $(FMNIST) || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq dataset-fashion-mnist; }

# headless Chromium and its WebDriver for the rendered-docs check (Debian packages)
browser:
	@{ command -v chromium && command -v chromedriver; } >/dev/null || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; }

train: setup
	$(VENV)/bin/snntorch-ms train --out runs/digits-proj

docs: setup
	$(PY) -m sphinx -W --keep-going -q -b html docs docs/_build/html
	@# math must render offline: MathJax from the build, never from a CDN
	test -f docs/_build/html/_static/mathjax/tex-chtml.js
	! grep -rlI --include='*.html' 'cdn.jsdelivr.net/npm/mathjax' docs/_build/html

# the built site in a real browser at 1280 px: no raw TeX, no broken image, nothing
# wider than the main column, each tutorial's notebook downloadable; screenshots of
# the index and the tutorials in docs/_build/screenshots/
site-check: docs browser
	$(PY) tools/check_site.py docs/_build/html --screenshots docs/_build/screenshots

# the sdist and the wheel, with the standard build front end (the wheel from the sdist)
dist: setup
	rm -rf dist
	$(PY) -m build --outdir dist .

# the wheel alone (--no-deps: the test environment has the dependencies) in a fresh
# folder outside the tree, in front of the environment's packages, smoke-tested from
# a temporary directory: catches modules and data that only an editable install has
wheel-check: dist
	tmp="$$(mktemp -d)" && trap 'rm -rf "$$tmp"' EXIT && \
	$(PY) -m pip install -q --disable-pip-version-check --no-deps --target "$$tmp/site" dist/*.whl && \
	cd "$$tmp" && PYTHONPATH="$$tmp/site" SNNTORCH_MS_SOURCE="$(CURDIR)" \
		"$(CURDIR)/$(PY)" -P "$(CURDIR)/tools/smoke_wheel.py"

test: setup data browser
	@set -e; t0=$$(date +%s); \
	$(PY) -m pytest -q -p no:cacheprovider; t1=$$(date +%s); \
	$(MAKE) --no-print-directory site-check; t2=$$(date +%s); \
	$(MAKE) --no-print-directory wheel-check; t3=$$(date +%s); \
	echo "make test: tests $$((t1 - t0)) s, docs + browser check $$((t2 - t1)) s, wheel $$((t3 - t2)) s"

bench: setup
	$(PY) benchmarks/neuron_layer.py

clean:
	rm -rf docs/_build build dist *.egg-info
