#!/usr/bin/env bash
# Fill gpu-carry/ (git-ignored) with what the GPU machine lacks, for the device
# tool's `carry`: the GPU image has torch 2.11 + torchvision 0.26, Python 3.12,
# no snntorch, no network.
#
#   bash benchmarks/gpu_prepare.sh            # from the repo root, on this (CPU) machine
#
# gpu-carry/wheels/  snntorch's wheel, ours (built from the working tree), and
#                    pytest with its pure-Python needs (installed there only if
#                    the image lacks pytest)
# gpu-carry/data/    FashionMNIST/raw/: the four Fashion-MNIST IDX .gz files (30 MB),
#                    from Debian's dataset-fashion-mnist (installed with apt-get if
#                    missing), in the layout the package reads (--data-dir gpu-carry/data);
#                    cifar10-jpeg.tar.gz: the CIFAR-10 JPEG archive (19 MB) from
#                    ../shared/data/ (or $CIFAR_ARCHIVE), read in place (--data-dir)
# gpu-carry/SOURCE   the commit and a hash of snntorch_ms/ the wheel was built from
#
# Re-run it after changing snntorch_ms/ (the GPU scripts report a stale wheel, and
# run the working tree's code either way). Prints the carry's size (< 64 MiB with
# the working tree).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
[ -x "$PY" ] || PY=python3
CARRY=gpu-carry
FMNIST=/usr/share/datasets/fashion-mnist
CIFAR_ARCHIVE=${CIFAR_ARCHIVE:-../shared/data/cifar10-jpeg.tar.gz}
[ -f "$CIFAR_ARCHIVE" ] || { echo "no CIFAR-10 archive at $CIFAR_ARCHIVE (set CIFAR_ARCHIVE)" >&2; exit 1; }
# data/ afresh: nothing unpacked there by an earlier run may travel
rm -rf "$CARRY/data"
mkdir -p "$CARRY/wheels" "$CARRY/data/FashionMNIST/raw"
rm -f "$CARRY"/wheels/*.whl

# pure-Python wheels: py3-none-any fits the image's Python 3.12
dl() { "$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
         --implementation py --abi none --platform any -d "$CARRY/wheels" "$@"; }
dl "snntorch==$("$PY" -c 'import snntorch; print(snntorch.__version__)')"
# pytest is in the GPU image's list; these come along in case it is not
# (the versions this venv tests with)
ver() { "$PY" -c "import importlib.metadata as m; print(m.version('$1'))"; }
dl "pytest==$(ver pytest)" "pluggy==$(ver pluggy)" "iniconfig==$(ver iniconfig)" \
   "packaging==$(ver packaging)" "pygments==$(ver pygments)"
# ours, from a copy of the working tree (tracked and untracked-not-ignored files),
# so that the build leaves no build/ or egg-info behind in the checkout
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git ls-files -co --exclude-standard -z | tar -cf - --null -T - | tar -xf - -C "$tmp"
"$PY" -m pip wheel -q --no-deps --no-build-isolation -w "$CARRY/wheels" "$tmp" >/dev/null

src_hash() { find snntorch_ms -name '*.py' -print0 | sort -z | xargs -0 cat | sha256sum | cut -c1-16; }
printf 'commit %s\nsource %s\n' "$(git rev-parse --short HEAD 2>/dev/null || echo none)" "$(src_hash)" \
  > "$CARRY/SOURCE"

if [ ! -d "$FMNIST" ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist
fi
for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
  cp -f "$FMNIST/$f.gz" "$CARRY/data/FashionMNIST/raw/$f.gz"
done
cp -f "$CIFAR_ARCHIVE" "$CARRY/data/cifar10-jpeg.tar.gz"

ls -l "$CARRY"/wheels "$CARRY"/data "$CARRY"/data/FashionMNIST/raw
carry_kib=$(du -sk "$CARRY" | cut -f1)
tree_kib=$(git ls-files -co --exclude-standard -z | du -ck --files0-from=- 2>/dev/null | tail -1 | cut -f1)
echo "carry $CARRY: $((carry_kib / 1024)) MiB; working tree that travels: $((tree_kib / 1024)) MiB;" \
     "total $(((carry_kib + tree_kib) / 1024)) MiB (limit 64 MiB)"
[ $((carry_kib + tree_kib)) -lt $((64 * 1024)) ] || { echo "over the 64 MiB limit" >&2; exit 1; }
