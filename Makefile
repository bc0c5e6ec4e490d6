# Two entry points (see README): `make train` runs the main job, `make test` the whole suite.
# Both create .venv on first use; `make test` also installs the Debian data package.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat setup.cfg pyproject.toml | cksum | cut -d' ' -f1)
FMNIST := /usr/share/datasets/fashion-mnist

.PHONY: setup data train test docs bench clean

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

train: setup
	$(VENV)/bin/snntorch-ms train --out runs/digits-proj

docs: setup
	$(PY) -m sphinx -W --keep-going -q -b html docs docs/_build/html
	@# math must render offline: MathJax from the build, never from a CDN
	test -f docs/_build/html/_static/mathjax/tex-chtml.js
	! grep -rlI --include='*.html' 'cdn.jsdelivr.net/npm/mathjax' docs/_build/html

test: setup data
	$(PY) -m pytest -q -p no:cacheprovider
	$(MAKE) docs

bench: setup
	$(PY) benchmarks/neuron_layer.py

clean:
	rm -rf docs/_build build *.egg-info
