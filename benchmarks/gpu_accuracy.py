"""The accuracy table at full scale (issue 13): real Fashion-MNIST 60,000 / 10,000,
10 epochs, the command line's recipe, every training in its own process, all at once
on one GPU, the data resident on the GPU.

    python benchmarks/gpu_accuracy.py --data gpu-carry/data --out $OUT --budget 330
    python benchmarks/gpu_accuracy.py --tiny --out runs/acc-tiny        # CPU dry run
    python benchmarks/gpu_accuracy.py --estimate --json est.json        # H200 time estimate
    python benchmarks/gpu_accuracy.py --list                            # the trainings

(``benchmarks/gpu_accuracy.sh`` wraps it for the GPU machine: wheels, card, budget.)

Trainings (``--only`` picks some; names ``<config>-s<seed>``):

* full-width ConvNet (6 convolutions, the package's ``convnet``), two seeds each:
  ReLU (the ANN twin), snntorch Leaky T=1, Leaky T=4, ProjLeaky T=1 at the backbone's
  default (two windows, alternating quad / overlap);
* the paper's CNN mixer at the paper's size (dims 48-96-192-384, depths 2-2-6-2, four
  windows), one seed: ReLU, Leaky T=1, ProjLeaky T=1;
* the best T=1 configuration of the T=1 techniques issue (``BEST_T1`` below, or
  ``--best-t1 JSON``), one seed: Leaky T=1 trained three times as long.

The recipe is the CLI's (``snntorch-ms train --dataset fashion-mnist``): the config is
built with :class:`snntorch_ms.train.TrainConfig` and :func:`resolve_config`, the
network with :func:`build_from_config` (same initialisation per seed), the schedule is
:func:`make_scheduler` stepped per batch, the epoch seeds and the data order are the
CLI's (``EpochSampler``'s permutation of ``(seed, epoch)``), the last partial batch is
kept, and a recipe's augmentation is the CLI's: the crop and flip of every image are
read off the CLI's own ``RandomCropFlip`` (torchvision's ``RandomCrop`` and
``RandomHorizontalFlip`` drawn from ``(seed, epoch, index)``) and applied to the
batch on the GPU; mixup is the CLI's ``KeyedMixUp`` (torchvision's ``MixUp`` drawn
from ``(seed, epoch, step, rank 0)``) on the GPU batch. What differs from the CLI's loop is only where the
work happens: the whole training and test sets are normalised once into GPU tensors,
batches are gathered on the GPU, losses and accuracies are summed on the GPU (one
synchronisation per epoch instead of one per step), evaluation uses batches of 1,000,
and the optimizer uses its fused CUDA implementation (same algorithm) when available.

ProjLeaky runs on its fused path (same results as the reference path to float
tolerance), on the engine ``--backend`` names (its ``backend`` setting; default
``triton``): the hand-written Triton kernels when a check at the start of the
training finds them compiling and agreeing with the eager fused math on a copy of its
network (Triton's JIT compile takes seconds and lands in its on-disk cache), else
``eager``; the result says which, and why. No worker runs a cold
``torch.compile``: none is used (``--backend compiled`` would, after the
driver has compiled the graphs once into inductor's cache). On CUDA the second step
of every training runs under ``torch.cuda.set_sync_debug_mode("warn")``: whatever
synchronises the host with the card shows in the result's ``warnings``.

Each training appends its result (one JSON line: accuracy per epoch, timing, energy,
config, machine) to ``<out>/results.jsonl`` the moment it ends; at the budget the
driver stops what is still running and records its last finished epoch as a partial
result. ``<out>/table.md`` and ``<out>/workers.log`` follow at the end (with
``summary.txt`` and ``log.txt`` of the wrapper: five files, within the device tool's
eight).
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import gzip
import json
import math
import os
import signal
import statistics
import subprocess
import sys
import time
import traceback
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

IDX_FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
             "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}
DEBIAN_DIR = "/usr/share/datasets/fashion-mnist"

# name -> spec. model_kwargs {} = the model's defaults (full-width ConvNet; the
# paper-size mixer); neuron_kwargs {} = the package's neuron defaults.
CONVNET = {
    "convnet-relu": dict(model="convnet", neuron="relu", timesteps=1),
    "convnet-leaky-T1": dict(model="convnet", neuron="leaky", timesteps=1),
    "convnet-leaky-T4": dict(model="convnet", neuron="leaky", timesteps=4),
    "convnet-proj-T1": dict(model="convnet", neuron="proj", timesteps=1),
}
MIXER = {
    "mixer-relu": dict(model="cnn-mixer", neuron="relu", timesteps=1),
    "mixer-leaky-T1": dict(model="cnn-mixer", neuron="leaky", timesteps=1),
    "mixer-proj-T1": dict(model="cnn-mixer", neuron="proj", timesteps=1),
}
CONVNET_SEEDS = (0, 1)
MIXER_SEEDS = (0,)

# =====================================================================================
# SLOT: the best T=1 configuration of the T=1 techniques issue (issue 10), run with
# BEST_T1_SEEDS beside the rows above (or replace it with --best-t1 '<json>').
#
# Filled from benchmarks/results/t1_techniques/table.md (docs/techniques.md,
# "Final round"): the most accurate binary T=1 network on validation is Leaky with no
# technique, trained three times as long as the T=1 row (15 cold epochs against 5 in
# that experiment: 88.07 +- 0.21 % test over 3 seeds against 86.47 +- 0.29 %). It ties
# on validation with all techniques combined (distillation, warm start, MPBN), which
# costs three times the training time, so the cheaper one is taken. Here it is the
# Leaky T=1 row with "epochs_factor": 3, i.e. three times this run's epochs (30 at the
# recipe's 10; --epochs scales it too).
#
# The spec's form:
#   {"name": "convnet-best-T1", "model": "convnet", "neuron": "leaky", "timesteps": 1,
#    "neuron_kwargs": {...},     # e.g. {"condense": "mean"} for ProjLeaky
#    "model_kwargs": {...},      # e.g. {"mpbn": True}
#    "epochs_factor": 3,         # optional: this many times the rows' epochs
#    "config": {...}}            # other TrainConfig fields, e.g. {"lr": 1e-3}
# "config" may only name fields this script's GPU loop implements (GPU_LOOP_FIELDS);
# a technique that lives in the CLI's training loop only (distillation from a teacher
# checkpoint, a warm start from a T=4 run) goes instead through the CLI, with its own
# flags: {"name": ..., "model": ..., "neuron": ..., "timesteps": 1,
#         "cli_args": ["--some-technique-flag", "value", ...]}
# (the CLI's per-sample loader is slower: size the run for it, see README).
BEST_T1 = {"name": "convnet-best-T1", "model": "convnet", "neuron": "leaky", "timesteps": 1,
           "epochs_factor": 3}
# One seed: its 30 epochs add about 17 s of device time a seed to the estimated 260 s
# of the rows above (benchmarks/results/cpu-estimate-gpu_accuracy.json), which with
# the 25 s start and the setup leaves no room for a second inside the run's 6 minutes.
# --seeds overrides it as every row's.
BEST_T1_SEEDS = (0,)
# =====================================================================================

# TrainConfig fields the GPU loop below reproduces; anything else must use "cli_args"
GPU_LOOP_FIELDS = {"recipe", "epochs", "batch_size", "lr", "weight_decay", "momentum",
                   "optimizer", "warmup_epochs", "mixup", "label_smoothing", "dropout",
                   "grad_clip", "amp", "energy_images"}


# ----------------------------------------------------------------------------- data

def find_data(folder) -> Path:
    """The folder holding the four Fashion-MNIST IDX files (.gz or plain)."""
    for cand in [folder, ROOT / "gpu-carry" / "data", DEBIAN_DIR]:
        if cand and all(any((Path(cand) / (f + ext)).is_file() for ext in (".gz", ""))
                        for pair in IDX_FILES.values() for f in pair):
            return Path(cand)
    raise SystemExit(f"Fashion-MNIST IDX files not found in {folder!r}, gpu-carry/data or "
                     f"{DEBIAN_DIR}: run benchmarks/gpu_prepare.sh (it installs the Debian "
                     "package dataset-fashion-mnist and copies the .gz files)")


def read_idx(path: Path):
    import numpy as np

    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        raw = fh.read()
    dims = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load_split(folder: Path, split: str):
    """uint8 images [N, 1, 28, 28] and int64 labels [N] (CPU tensors)."""
    import torch

    out = []
    for name in IDX_FILES[split]:
        path = folder / (name + ".gz")
        out.append(read_idx(path if path.is_file() else folder / name))
    images = torch.from_numpy(out[0].copy()).unsqueeze(1)
    labels = torch.from_numpy(out[1].astype("int64"))
    return images, labels


def balanced_first(labels, n: int):
    """The first n/10 indices of every class (a small, balanced, deterministic subset)."""
    import torch

    per = max(1, n // 10)
    return torch.cat([torch.nonzero(labels == c).flatten()[:per] for c in range(10)]).sort().values


def crop_flip_params(aug, seed: int, epoch: int, n: int, height: int, width: int):
    """Per-image shifts and flips of the CLI's augmentation for (seed, epoch), read off
    the CLI's own ``aug`` (a ``RandomCropFlip``: torchvision's crop and flip, drawn from
    ``key = mix(seed, epoch, index)``) run on a probe whose pixels are 1 .. h*w:
    ``out[r, c] = image[r + dy, c + dx]`` (0 outside), then mirrored where ``fl``."""
    import torch

    from snntorch_ms.data.seeding import mix

    probe = torch.arange(1, height * width + 1, dtype=torch.float64).view(1, height, width)
    r0, c0 = height // 2, width // 2
    dy, dx, fl = (torch.zeros(n, dtype=torch.long) for _ in range(3))
    for i in range(n):
        out = aug(probe, mix(seed, epoch, i))[0]
        v, right = int(out[r0, c0]), int(out[r0, c0 + 1])
        if v == 0 or right == 0:
            raise ValueError(f"padding {aug.padding} is too large for a {height}x{width} probe")
        flipped = right < v
        r, c = divmod(v - 1, width)
        dy[i], fl[i] = r - r0, flipped
        dx[i] = c - ((width - 1 - c0) if flipped else c0)
    return dy, dx, fl.bool()


def gpu_crop_flip(x, dy, dx, fl, padding: int, black: float):
    """RandomCropFlip on a normalised batch [B, C, H, W]: out[r, c] = image[r + dy, c + dx]
    (black outside the image), then a horizontal flip where ``fl``."""
    import torch
    import torch.nn.functional as F

    if padding:
        b, c, h, w = x.shape
        xp = F.pad(x, (padding,) * 4, value=black)
        rows = torch.arange(h, device=x.device)[None, :] + dy[:, None] + padding
        cols = torch.arange(w, device=x.device)[None, :] + dx[:, None] + padding
        bi = torch.arange(b, device=x.device)[:, None, None]
        x = xp.permute(0, 2, 3, 1)[bi, rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2)
    return torch.where(fl[:, None, None, None], x.flip(-1), x)


# ---------------------------------------------------------------------------- specs

def all_specs(args) -> dict:
    """run name -> spec (with seed)."""
    specs = {}
    for table, seeds in ((CONVNET, CONVNET_SEEDS), (MIXER, MIXER_SEEDS)):
        for name, spec in table.items():
            for seed in (args.seeds or seeds):
                specs[f"{name}-s{seed}"] = dict(spec, config_name=name, seed=seed)
    best = json.loads(args.best_t1) if args.best_t1 else BEST_T1
    if best:
        best = dict(best)
        name = best.pop("name", "convnet-best-T1")
        for seed in (args.seeds or BEST_T1_SEEDS):
            specs[f"{name}-s{seed}"] = dict(best, config_name=name, seed=seed)
    if args.only:
        unknown = [o for o in args.only if o not in specs and
                   not any(k.startswith(o + "-s") for k in specs)]
        if unknown:
            raise SystemExit(f"unknown trainings {unknown}; known: {sorted(specs)}")
        specs = {k: v for k, v in specs.items()
                 if k in args.only or any(k.startswith(o + "-s") for o in args.only)}
    return specs


def make_config(spec, args):
    from snntorch_ms.train import TrainConfig, resolve_config

    extra = dict(spec.get("config") or {})
    unknown = set(extra) - GPU_LOOP_FIELDS
    if unknown:
        raise ValueError(f"config fields {sorted(unknown)} are not implemented by this GPU loop; "
                         "run the configuration through the CLI with 'cli_args'")
    if args.epochs is not None:
        extra["epochs"] = args.epochs
    if args.batch_size is not None:
        extra["batch_size"] = args.batch_size
    recipe = extra.pop("recipe", args.recipe)

    def resolved(fields):
        return resolve_config(TrainConfig(
            dataset="fashion-mnist", model=spec["model"], neuron=spec["neuron"],
            timesteps=int(spec.get("timesteps", 1)), seed=int(spec["seed"]), recipe=recipe,
            out=None, neuron_kwargs=dict(spec.get("neuron_kwargs") or {}),
            model_kwargs=dict(spec.get("model_kwargs") or {}),
            device="cuda" if args.device == "cuda" else "cpu", **fields))

    c = resolved(extra)
    factor = spec.get("epochs_factor")
    if factor is not None:
        if "epochs" in (spec.get("config") or {}):
            raise ValueError(f"{spec.get('config_name')}: give 'epochs_factor' or config "
                             "'epochs', not both")
        # resolved again: the recipe's warm-up (and anything else drawn from the
        # epochs) follows the scaled count
        c = resolved(dict(extra, epochs=scaled_epochs(factor, c.epochs)))
    return c


def scaled_epochs(factor, epochs: int) -> int:
    """``factor`` times ``epochs`` for a spec's ``"epochs_factor"`` (at least 1)."""
    if not isinstance(factor, (int, float)) or factor <= 0:
        raise ValueError(f"'epochs_factor' must be a positive number, got {factor!r}")
    return max(1, round(factor * epochs))


# --------------------------------------------------------------------------- worker

def make_optimizer(c, model, cuda: bool):
    """train._make_optimizer's optimizer, with the fused CUDA implementation when the
    torch build has it (same update rule, fewer kernels)."""
    import torch

    from snntorch_ms.train import make_optimizer as _make_optimizer

    params = [p for p in model.parameters() if p.requires_grad]
    kinds = {"sgd": (torch.optim.SGD, dict(momentum=c.momentum)), "adam": (torch.optim.Adam, {}),
             "adamw": (torch.optim.AdamW, {})}
    if cuda and c.optimizer in kinds:
        cls, kw = kinds[c.optimizer]
        try:
            return cls(params, lr=c.lr, weight_decay=c.weight_decay, fused=True, **kw), "fused"
        except (TypeError, RuntimeError, ValueError):
            pass
    return _make_optimizer(c, model), "default"


def set_proj_backend(model, backend: str):
    """Set ``backend`` on every ProjLeaky of ``model``; returns it (the record's
    ``proj_backend``)."""
    from snntorch_ms.utils import set_backend

    set_backend(model, backend)
    return backend


def append_jsonl(path: Path, record: dict):
    """One line, under an exclusive lock (several workers append to the same file)."""
    line = json.dumps(record, default=str) + "\n"
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        fh.write(line)
        fh.flush()
        os.fsync(fh.fileno())
        fcntl.flock(fh, fcntl.LOCK_UN)


def write_atomic(path: Path, text: str):
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def worker(args):
    """One training, in this process."""
    spec = json.loads(args.worker)
    run = spec["run"]
    t_start = time.time()
    import numpy as np
    import torch
    import torch.nn.functional as F

    from snntorch_ms import __version__ as ms_version
    from snntorch_ms import data as data_mod
    from snntorch_ms import train as train_mod

    torch.set_num_threads(args.threads)
    cuda = args.device == "cuda"
    device = torch.device("cuda" if cuda else "cpu")
    progress = Path(args.progress)
    record = {"run": run, "config_name": spec["config_name"], "seed": spec["seed"],
              "model": spec["model"], "neuron": spec["neuron"],
              "timesteps": int(spec.get("timesteps", 1)), "status": "running",
              "machine": torch.cuda.get_device_name(device) if cuda else "cpu",
              "torch": torch.__version__, "snntorch_ms": ms_version, "history": []}
    caught = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if spec.get("cli_args") is not None:
                record.update(run_cli(spec, args, device))
            else:
                record.update(train_gpu(spec, args, device, record, progress, np, torch, F,
                                        data_mod, train_mod))
        record["status"] = "done"
    except Exception as err:  # a result too: the table says FAILED
        record["status"] = "FAILED"
        record["error"] = f"{type(err).__name__}: {err}"[:3000]
        traceback.print_exc()
    record["warnings"] = sorted({str(w.message)[:300] for w in caught})
    record["process_s"] = time.time() - t_start
    append_jsonl(Path(args.results), record)
    print(f"{run}: {record['status']}" + (f", test acc {record.get('test_acc'):.2f} %"
                                          if record.get("test_acc") is not None else ""), flush=True)
    return 0 if record["status"] == "done" else 1


def train_gpu(spec, args, device, record, progress, np, torch, F, data_mod, train_mod):
    from snntorch_ms.data import seeding
    from snntorch_ms.train import build_from_config, make_scheduler, mixup_loss

    cuda = device.type == "cuda"
    c = make_config(spec, args)
    info = data_mod.dataset_info(c.dataset)
    folder = find_data(args.data)
    t0 = time.time()
    tr_x, tr_y = load_split(folder, "train")
    te_x, te_y = load_split(folder, "test")
    if args.train_limit:
        keep = balanced_first(tr_y, args.train_limit)
        tr_x, tr_y = tr_x[keep], tr_y[keep]
    if args.test_limit:
        keep = balanced_first(te_y, args.test_limit)
        te_x, te_y = te_x[keep], te_y[keep]
    mean, std = float(info.mean[0]), float(info.std[0])

    def resident(x):  # the dataset's own scaling and normalisation, once, on the device
        return ((x.to(device).float() / 255.0) - mean) / std

    tr_x, te_x = resident(tr_x), resident(te_x)
    tr_y, te_y = tr_y.to(device), te_y.to(device)
    n_train, n_test = len(tr_y), len(te_y)
    aug = data_mod.train_augmentation(c.dataset, c.recipe)
    mix = data_mod.KeyedMixUp(c.mixup, info.num_classes) if c.mixup > 0 else None
    load_s = time.time() - t0

    model = build_from_config(c).to(device)
    path = None
    if c.neuron == "proj":
        choice = args.backend
        if choice == "triton":
            ok, why = triton_check(model, device, bs=int(c.batch_size), eval_batch=args.eval_batch,
                                   last=n_train % int(c.batch_size))
            choice = "triton" if ok else "eager"
            record["proj_backend_check"] = why
        path = set_proj_backend(model, choice)
    optimizer, opt_impl = make_optimizer(c, model, cuda)
    bs = int(c.batch_size)
    steps_per_epoch = math.ceil(n_train / bs)
    scheduler = make_scheduler(optimizer, c.epochs * steps_per_epoch,
                               round(c.warmup_epochs * steps_per_epoch))
    amp = cuda and c.amp
    autocast = (lambda: torch.autocast("cuda", dtype=torch.bfloat16)) if amp else contextlib.nullcontext
    n_params = sum(p.numel() for p in model.parameters())
    record.update(config=c.to_dict(), proj_backend=path, optimizer_impl=opt_impl, parameters=n_params,
                  train_images=n_train, test_images=n_test, data_load_s=load_s, amp_bf16=amp)
    print(f"{spec['run']}: {c.model} {c.neuron} T={c.timesteps} seed {c.seed}, {n_params / 1e6:.2f} M "
          f"parameters, {n_train}/{n_test} images, {c.epochs} epochs of {steps_per_epoch} steps, "
          f"recipe {c.recipe} ({c.optimizer} lr {c.lr}), {path or ''}", flush=True)

    def sync():
        if cuda:
            torch.cuda.synchronize()

    history = []
    for epoch in range(c.epochs):
        sync()
        t_ep = time.time()
        train_mod.runtime.seed_all(train_mod.runtime.epoch_seed(c.seed, epoch, 0))
        # EpochSampler's order for (seed, epoch), as the CLI's loader draws it
        g = torch.Generator().manual_seed(seeding.mix(c.seed, epoch) >> 1)
        order = torch.randperm(n_train, generator=g)
        if aug is not None:
            # RandomCropFlip keys of the dataset indices, in the order of the batches
            dy, dx, fl = crop_flip_params(aug, c.seed, epoch, n_train, *tr_x.shape[-2:])
            dy, dx, fl = dy[order].to(device), dx[order].to(device), fl[order].to(device)
        order = order.to(device)
        model.train()
        sums = torch.zeros(2, dtype=torch.float64, device=device)  # loss * n, correct
        seen = 0  # images: counted on the host (a device scalar per step would synchronise)
        for i in range(steps_per_epoch):
            idx = order[i * bs:(i + 1) * bs]
            x, y = tr_x.index_select(0, idx), tr_y.index_select(0, idx)
            if aug is not None:
                sl = slice(i * bs, (i + 1) * bs)
                x = gpu_crop_flip(x, dy[sl], dx[sl], fl[sl], aug.padding, (0.0 - mean) / std)
            target = y
            if mix is not None:  # the CLI's draw of this batch (train_one_epoch, rank 0)
                x, target = mix(x, y, mix.key(c.seed, epoch, i, 0))
            if cuda and epoch == 0 and i == 1:
                torch.cuda.set_sync_debug_mode("warn")  # what synchronises, once, in the warnings
            with autocast():
                logits = model(x)
            # the CLI's loss and count, from the training package itself
            loss, correct = mixup_loss(logits.float(), target, c.label_smoothing)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if c.grad_clip and c.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), c.grad_clip)
            optimizer.step()
            scheduler.step()
            if cuda and epoch == 0 and i == 1:
                torch.cuda.set_sync_debug_mode("default")
            n = y.shape[0]
            seen += n
            sums += torch.stack([loss.detach().double() * n, correct.double()])
        lr = optimizer.param_groups[0]["lr"]
        lr = float(lr) if not torch.is_tensor(lr) else float(lr.item())
        test = evaluate(model, te_x, te_y, args.eval_batch, autocast, torch, F)
        sync()
        s = sums.tolist()
        entry = {"epoch": epoch + 1, "train_loss": s[0] / seen, "train_acc": 100.0 * s[1] / seen,
                 "test_loss": test[0], "test_acc": test[1], "lr": lr, "time_s": time.time() - t_ep}
        history.append(entry)
        record["history"] = history
        write_atomic(progress, json.dumps(record, default=str))
        print(f"{spec['run']}: epoch {epoch + 1}/{c.epochs}  train loss {entry['train_loss']:.3f} "
              f"acc {entry['train_acc']:.1f} %  test loss {entry['test_loss']:.3f} acc "
              f"{entry['test_acc']:.2f} %  {entry['time_s']:.1f} s", flush=True)

    out = {"history": history, "test_acc": history[-1]["test_acc"],
           "test_loss": history[-1]["test_loss"],
           "best_test_acc": max(h["test_acc"] for h in history), "epochs": len(history),
           "train_s": sum(h["time_s"] for h in history)}
    out["epoch_mean_s"] = out["train_s"] / len(history)
    if args.energy_images:
        try:
            from snntorch_ms.train import measure_model_energy

            images = te_x[:args.energy_images]
            e = measure_model_energy(model, c, images, "spike-driven")
            out.update(energy_j=e["energy_j"], ann_energy_j=e["ann_energy_j"],
                       energy_ratio=e["energy_ratio"], firing_rates=e["firing_rates"],
                       energy_images=int(images.shape[0]))
        except Exception as err:  # energy is extra: the accuracy stands without it
            out["energy_error"] = f"{type(err).__name__}: {err}"[:500]
    return out


def evaluate(model, x_all, y_all, batch, autocast, torch, F):
    """(mean cross-entropy, accuracy %) on the whole resident test set."""
    was = model.training
    model.eval()
    loss = torch.zeros((), dtype=torch.float64, device=x_all.device)
    correct = torch.zeros((), dtype=torch.float64, device=x_all.device)
    with torch.no_grad():
        for i in range(0, len(y_all), batch):
            x, y = x_all[i:i + batch], y_all[i:i + batch]
            with autocast():
                out = model(x)
            out = out.float()
            loss += F.cross_entropy(out, y, reduction="sum").double()
            correct += (out.argmax(1) == y).sum().double()
    model.train(was)
    n = len(y_all)
    return float(loss) / n, 100.0 * float(correct) / n


def run_cli(spec, args, device):
    """A configuration that needs the CLI's own training loop (see the BEST_T1 slot)."""
    import tempfile

    folder = find_data(args.data)
    root = Path(tempfile.mkdtemp(prefix="snnms-cli-data-"))
    raw = root / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    for f in os.listdir(folder):
        os.symlink(folder / f, raw / f)
    out = Path(tempfile.mkdtemp(prefix="snnms-cli-run-"))
    cmd = [sys.executable, "-m", "snntorch_ms", "train", "--dataset", "fashion-mnist",
           "--data-dir", str(root), "--no-download", "--model", spec["model"],
           "--neuron", spec["neuron"], "--timesteps", str(spec.get("timesteps", 1)),
           "--seed", str(spec["seed"]), "--device", str(device), "--out", str(out),
           "--no-progress", "--workers", "2", "--recipe", args.recipe]
    if spec.get("epochs_factor") is not None:
        cmd += ["--epochs", str(make_config(spec, args).epochs)]  # the GPU loop's count
    elif args.epochs is not None:
        cmd += ["--epochs", str(args.epochs)]
    if args.train_limit:
        cmd += ["--limit-train", str(args.train_limit)]
    if args.test_limit:
        cmd += ["--limit-test", str(args.test_limit)]
    for k, v in (spec.get("neuron_kwargs") or {}).items():
        cmd += ["--neuron-arg", f"{k}={v}"]
    for k, v in (spec.get("model_kwargs") or {}).items():
        cmd += ["--model-arg", f"{k}={v}"]
    cmd += [str(a) for a in spec["cli_args"]]
    print("CLI:", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, cwd=ROOT)
    m = json.loads((out / "metrics.json").read_text())
    keep = ("test_acc", "test_loss", "best_test_acc", "epochs", "history", "energy_j",
            "ann_energy_j", "energy_ratio", "firing_rates", "config", "parameters")
    res = {k: m.get(k) for k in keep}
    res.update(train_s=m["timing"]["train_s"], epoch_mean_s=m["timing"]["epoch_mean_s"],
               proj_backend="CLI", via="cli")
    return res


# --------------------------------------------------------------------------- driver

def triton_check(model, device, bs: int, eval_batch: int, last: int) -> tuple:
    """Whether ProjLeaky's Triton kernels compile and agree with the eager fused math on
    a copy of ``model`` (bf16 autocast; a training batch forward and backward, then the
    evaluation and last-batch sizes forward, which also fills Triton's on-disk cache
    for the shapes of the run). ``(ok, why)``; never raises."""
    import copy

    import torch

    from snntorch_ms.functional.fused import triton_available
    from snntorch_ms.utils import set_backend

    if device.type != "cuda" or not triton_available():
        return False, "no CUDA device or no Triton: eager fused math"
    t0 = time.time()
    try:
        net = copy.deepcopy(model).train()
        g = torch.Generator(device=device).manual_seed(0)
        x = torch.randn(bs, 1, 28, 28, device=device, generator=g)
        y = torch.arange(bs, device=device) % 10
        res = []
        for triton in (False, True):
            set_backend(net, "triton" if triton else "eager")
            net.zero_grad(set_to_none=True)
            with torch.autocast("cuda", dtype=torch.bfloat16):
                logits = net(x)
            torch.nn.functional.cross_entropy(logits.float(), y).backward()
            grads = torch.cat([p.grad.flatten().float() for p in net.parameters() if p.grad is not None])
            res.append((logits.detach().float(), grads))
            if triton:
                with torch.no_grad(), torch.autocast("cuda", dtype=torch.bfloat16):
                    net.eval()
                    for b in {eval_batch, last} - {0}:
                        net(torch.randn(b, 1, 28, 28, device=device, generator=g))
                    net.train()
        torch.cuda.synchronize()
    except Exception as err:  # a kernel that does not compile: the eager fused math
        return False, f"Triton FAILED ({type(err).__name__}: {err})"[:800]
    (l0, g0), (l1, g1) = res
    cos = [float(torch.nn.functional.cosine_similarity(a.flatten(), b.flatten(), 0))
           for a, b in ((l0, l1), (g0, g1))]
    if cos[0] < 0.99 or cos[1] < 0.98:
        return False, f"Triton DISAGREES with the eager fused math: cosine logits {cos[0]:.4f}, grads {cos[1]:.4f}"
    return True, (f"Triton agrees with the eager fused math (cosine logits {cos[0]:.5f}, "
                  f"grads {cos[1]:.5f}; check {time.time() - t0:.1f} s)")


def warm_inductor(args):
    """For --backend compiled: compile once here, so that workers load the graphs."""
    import torch

    from snntorch_ms.models import build_model
    from snntorch_ms.utils import set_backend

    models = sorted({s["model"] for s in all_specs(args).values() if s["neuron"] == "proj"})
    dev = "cuda" if args.device == "cuda" else "cpu"
    for name in models:
        net = set_backend(build_model(name, "proj", num_classes=10, in_channels=1,
                                      image_size=28).to(dev), "compiled")
        for b in (args.batch_size or 128, 60000 % (args.batch_size or 128) or 1):
            with torch.autocast(dev, dtype=torch.bfloat16, enabled=dev == "cuda"):
                out = net(torch.randn(b, 1, 28, 28, device=dev))
            out.float().sum().backward()
        with torch.no_grad():
            net.eval()(torch.randn(args.eval_batch, 1, 28, 28, device=dev))


def table(records, out_md: Path, header: str, order=(), epochs=None):
    """Mean +- half range over seeds per configuration; time ratios as accuracy_t1.py.
    Rows in ``order`` (configuration names), then any others; a row trained for other
    than ``epochs`` (the header's) says how many."""
    by = {}
    rank = {name: i for i, name in enumerate(order)}
    for r in sorted(records, key=lambda r: (rank.get(r["config_name"], len(rank)), r["seed"])):
        by.setdefault(r["config_name"], []).append(r)
    rows = {}
    for name, runs in by.items():
        ok = [r for r in runs if r.get("test_acc") is not None]
        accs = [r["test_acc"] for r in ok]
        rows[name] = {
            "acc": statistics.mean(accs) if accs else None,
            "spread": (max(accs) - min(accs)) / 2 if len(accs) > 1 else 0.0,
            "train_s": statistics.mean(r.get("train_s") or sum(h["time_s"] for h in r["history"])
                                       for r in ok) if ok else None,
            "energy": statistics.mean(r["energy_ratio"] for r in ok if r.get("energy_ratio"))
            if any(r.get("energy_ratio") for r in ok) else None,
            "seeds": sorted(r["seed"] for r in runs),
            "status": sorted({r["status"] if r["status"] != "partial"
                              else f"partial ({r.get('epochs')} ep)" for r in runs}),
            "model": runs[0]["model"], "neuron": runs[0]["neuron"], "T": runs[0]["timesteps"],
            "path": runs[0].get("proj_backend", runs[0].get("proj_path")),
            "epochs": next((r["config"]["epochs"] for r in runs if r.get("config")), None),
        }
    lines = [header, "",
             "| configuration | T | test acc % | train s | time / ReLU | time / Leaky T=4 | "
             "ANN/SNN energy | seeds | status |", "|---|---|---|---|---|---|---|---|---|"]
    for name, r in rows.items():
        fam = name.split("-")[0]
        relu, t4 = rows.get(f"{fam}-relu"), rows.get(f"{fam}-leaky-T4")

        def ratio(base):
            return f"{r['train_s'] / base['train_s']:.2f}" if base and base["train_s"] and r["train_s"] else "-"

        if r["epochs"] is not None and epochs is not None and r["epochs"] != epochs:
            name = f"{name} ({r['epochs']} epochs)"
        acc = "-" if r["acc"] is None else f"{r['acc']:.2f}" + (f" ± {r['spread']:.2f}" if r["spread"] else "")
        lines.append(f"| {name}{' (' + r['path'] + ')' if r['path'] else ''} | {r['T']} | {acc} | "
                     f"{r['train_s']:.1f} | {ratio(relu)} | {ratio(t4)} | "
                     f"{'-' if r['energy'] is None else format(r['energy'], '.2f')} | "
                     f"{','.join(map(str, r['seeds']))} | {', '.join(r['status'])} |"
                     if r["train_s"] is not None else
                     f"| {name} | {r['T']} | - | - | - | - | - | {','.join(map(str, r['seeds']))} | "
                     f"{', '.join(r['status'])} |")
    text = "\n".join(lines) + "\n"
    write_atomic(out_md, text)
    return text, rows


def driver(args):
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results = out / "results.jsonl"
    results.write_text("")
    wlog = out / "workers.log"
    wlog.write_text("")
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    for old in list(work.glob("*.progress.json")) + list(work.glob("*.log")):
        old.unlink()  # an earlier run's: a stopped training must not inherit them
    t0 = time.time()
    deadline = t0 + args.budget
    specs = all_specs(args)
    find_data(args.data)
    print(f"# {len(specs)} trainings, device {args.device}, budget {args.budget:.0f} s, "
          f"at most {args.jobs or len(specs)} at a time: {', '.join(specs)}", flush=True)

    env = dict(os.environ, PYTHONUNBUFFERED="1", OMP_NUM_THREADS=str(args.threads))
    # the longest first (matters with --jobs): the mixers, Leaky T=4, then the rest
    pending = sorted(specs, key=lambda k: (specs[k]["model"] != "cnn-mixer",
                                           -int(specs[k].get("timesteps", 1)),
                                           specs[k]["neuron"] != "proj"))
    # with --backend compiled, ProjLeaky workers wait for the driver to compile
    # the graphs once (they then load them from inductor's cache); the rest start now.
    # With triton, each ProjLeaky worker checks the Triton kernels on its own network.
    needs_path = ({k for k, s in specs.items() if s["neuron"] == "proj" and not s.get("cli_args")}
                  if args.backend == "compiled" else set())
    running = {}
    path_decided = not needs_path
    proj_note = None

    def launch(name):
        spec = dict(specs[name], run=name)
        cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", json.dumps(spec),
               "--results", str(results), "--progress", str(work / f"{name}.progress.json"),
               "--device", args.device, "--threads", str(args.threads), "--backend", args.backend,
               "--eval-batch", str(args.eval_batch), "--energy-images", str(args.energy_images),
               "--recipe", args.recipe]
        if args.data:
            cmd += ["--data", str(args.data)]
        for flag in ("epochs", "batch_size", "train_limit", "test_limit"):
            if getattr(args, flag) is not None:
                cmd += [f"--{flag.replace('_', '-')}", str(getattr(args, flag))]
        logf = open(work / f"{name}.log", "w")
        proc = subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT, cwd=ROOT, env=env,
                                start_new_session=True)
        running[name] = (proc, logf, time.time())
        print(f"[{time.time() - t0:6.1f} s] start {name}", flush=True)

    def fill():
        jobs = args.jobs or len(specs)
        for name in list(pending):
            if len(running) >= jobs:
                break
            if name in needs_path and not path_decided:
                continue
            pending.remove(name)
            launch(name)

    def finish(name, status=None):
        proc, logf, started = running.pop(name)
        logf.close()
        text = (work / f"{name}.log").read_text(errors="replace")
        with open(wlog, "a") as fh:
            fh.write(f"===== {name} (exit {proc.returncode}, {time.time() - started:.0f} s)\n{text}\n")
        if status is not None:  # stopped by the driver: record its last finished epoch
            prog = work / f"{name}.progress.json"
            rec = json.loads(prog.read_text()) if prog.is_file() else \
                dict(run=name, config_name=specs[name]["config_name"], seed=specs[name]["seed"],
                     model=specs[name]["model"], neuron=specs[name]["neuron"],
                     timesteps=int(specs[name].get("timesteps", 1)), history=[])
            hist = rec.get("history") or []
            rec.update(status=status, epochs=len(hist),
                       test_acc=hist[-1]["test_acc"] if hist else None,
                       train_s=sum(h["time_s"] for h in hist) if hist else None)
            append_jsonl(results, rec)
        elif proc.returncode != 0 and not any(json.loads(line).get("run") == name
                                             for line in results.read_text().splitlines() if line):
            append_jsonl(results, dict(run=name, config_name=specs[name]["config_name"],
                                       seed=specs[name]["seed"], model=specs[name]["model"],
                                       neuron=specs[name]["neuron"],
                                       timesteps=int(specs[name].get("timesteps", 1)),
                                       status=f"FAILED (exit {proc.returncode})", history=[]))
        print(f"[{time.time() - t0:6.1f} s] end   {name}: {text.strip().splitlines()[-1] if text.strip() else ''}",
              flush=True)

    fill()
    if needs_path:
        t_path = time.time()
        try:
            warm_inductor(args)
            proj_note = "proj backend compiled (inductor's cache filled by the driver)"
        except Exception as err:
            args.backend = "eager"
            proj_note = f"proj backend eager: compiling failed ({type(err).__name__}: {err})"[:600]
            traceback.print_exc()
        path_decided = True
        print(f"[{time.time() - t0:6.1f} s] {proj_note} ({time.time() - t_path:.1f} s)", flush=True)
        fill()

    while running or pending:
        for name in [n for n, (p, _, _) in running.items() if p.poll() is not None]:
            finish(name)
        fill()
        if time.time() > deadline:
            for name, (proc, _, _) in list(running.items()):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
            time.sleep(3)
            for name, (proc, _, _) in list(running.items()):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                finish(name, status="partial")
            for name in pending:
                s = specs[name]
                append_jsonl(results, dict(run=name, config_name=s["config_name"], seed=s["seed"],
                                           model=s["model"], neuron=s["neuron"],
                                           timesteps=int(s.get("timesteps", 1)),
                                           status="not started (budget)", history=[]))
            pending.clear()
            break
        time.sleep(0.5)

    records = [json.loads(line) for line in results.read_text().splitlines() if line.strip()]
    machine = next((r.get("machine") for r in records if r.get("machine")), args.device)
    epochs = next((r["config"]["epochs"] for r in records if r.get("config")
                   and specs.get(r["run"], {}).get("epochs_factor") is None), args.epochs)
    n_tr = next((r.get("train_images") for r in records if r.get("train_images")), "?")
    n_te = next((r.get("test_images") for r in records if r.get("test_images")), "?")
    header = (f"Fashion-MNIST {n_tr}/{n_te} images, {epochs} epochs, recipe {args.recipe}, "
              f"on {machine}; {len(records)} trainings, up to {args.jobs or len(specs)} at once, "
              f"in {time.time() - t0:.0f} s of wall time" + (f"; {proj_note}" if proj_note else ""))
    order = list(dict.fromkeys(s["config_name"] for s in specs.values()))
    text, _ = table(records, out / "table.md", header, order, epochs)
    print("\n" + text, flush=True)
    bad = [r["run"] for r in records if r["status"] != "done"]
    if bad:
        print(f"# not done: {', '.join(bad)}", flush=True)
    return 0


# ------------------------------------------------------------------------- estimate

def estimate(args):
    """H200 time estimate from CPU measurements (see the README for the reading).

    Per configuration: multiply-accumulates per image (hooks on the convolutions and
    linear layers of the full-size network); non-view aten ops per training step
    (forward + backward, counted at batch 2: each is about one CUDA kernel; the fused
    optimizer adds ~2); and the CPU time per step of the same network at minimal width
    and batch 1, where the arithmetic is negligible and what is left is the per-op cost
    of eager PyTorch (Python, dispatch, autograd), the part of a step that runs on the
    host whatever the device (the fastest of 15 steps: the least disturbed by other
    jobs on a shared machine).

    On the H200 a step then takes ``max(host, device)``: host = the minimal-width CPU
    time x ``--host-factor``; device = FLOPs / ``--tflops`` + kernels x
    ``--us-per-kernel``. All trainings run at once, one process each on 16 cores: the
    wall time is the longest host-bound training, unless the card, running one
    process's kernels at a time (no MPS), is busy longer than that."""
    import torch
    from torch.utils._python_dispatch import TorchDispatchMode

    from snntorch_ms.train import build_from_config
    from snntorch_ms.utils import set_backend

    torch.set_num_threads(1)
    skip = {"empty", "empty_like", "empty_strided", "detach", "alias", "lift_fresh", "t",
            "_unsafe_view", "expand", "view", "as_strided", "new_empty", "new_empty_strided",
            "promote_types"}  # a dtype computation, no kernel

    class Count(TorchDispatchMode):
        def __init__(self):
            super().__init__()
            self.n = 0

        def __torch_dispatch__(self, func, types, args_=(), kwargs=None):
            if not getattr(func, "is_view", False) and func.overloadpacket.__name__ not in skip:
                self.n += 1
            return func(*args_, **(kwargs or {}))

    def train_step(model, x, y):
        model.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(model(x), y).backward()

    def count(model, batch):
        x, y = torch.randn(batch, 1, 28, 28), torch.arange(batch) % 10
        train_step(model, x, y)
        with Count() as c:
            train_step(model, x, y)
        with torch.no_grad(), Count() as ce:
            model.eval()(x)
        model.train()
        return c.n, ce.n

    def timed(model, reps=15):
        x, y = torch.randn(1, 1, 28, 28), torch.tensor([0])
        for _ in range(2):
            train_step(model, x, y)
        ts = []
        for _ in range(reps):
            t = time.perf_counter()
            train_step(model, x, y)
            ts.append(time.perf_counter() - t)
        return min(ts) * 1e3

    minimal = {"convnet": {"width": 1 / 32}, "cnn-mixer": {"dims": (4, 4, 4, 4)}}
    rows, seen = [], {}
    for run, spec in all_specs(args).items():
        key = spec["config_name"]
        if key in seen or spec.get("cli_args") is not None:
            if key in seen:
                rows.append(dict(seen[key], run=run))
            continue
        c = make_config(spec, args)
        model = build_from_config(c)
        if c.neuron == "proj":
            set_backend(model, "eager")
        macs = [0]

        def hook(mod, inp, out):
            if isinstance(mod, torch.nn.Conv2d):
                macs[0] += out.numel() * mod.in_channels // mod.groups * math.prod(mod.kernel_size)
            elif isinstance(mod, torch.nn.Linear):
                macs[0] += out.numel() * mod.in_features
        hooks = [m.register_forward_hook(hook) for m in model.modules()
                 if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
        with torch.no_grad():
            model.eval()(torch.randn(1, 1, 28, 28))
        model.train()
        for h in hooks:
            h.remove()
        ops, ops_eval = count(model, 2)
        small_spec = dict(spec, model_kwargs=dict(spec.get("model_kwargs") or {}, **minimal[c.model]))
        small = build_from_config(make_config(small_spec, args))
        if c.neuron == "proj":
            set_backend(small, "eager")
        host_small_ms = timed(small)
        ops_small, _ = count(small, 1)
        us_op = host_small_ms * 1e3 / max(1, ops_small)
        # (ProjLeaky on its Triton path cannot be counted here: Triton's CPU interpreter
        # runs torch ops of its own around every kernel; its count lies between ReLU's
        # and the eager fused math's)
        paths = {"eager" if c.neuron == "proj" else "-": (ops, ops_eval)}
        steps = c.epochs * math.ceil(60000 / c.batch_size)
        eval_batches = c.epochs * math.ceil(10000 / args.eval_batch)
        flops = 6 * macs[0] * c.batch_size  # forward 2 FLOP per MAC, backward ~2x forward
        for path, (n_ops, n_eval) in paths.items():
            host_ms = (n_ops + 2) * us_op / 1e3 * args.host_factor
            dev_ms = flops / (args.tflops * 1e12) * 1e3 + (n_ops + 2) * args.us_per_kernel / 1e3
            step_ms = max(host_ms, dev_ms)
            ev_host = n_eval * us_op / 1e3 * args.host_factor
            ev_dev = 2 * macs[0] * args.eval_batch / (args.tflops * 1e12) * 1e3 + n_eval * args.us_per_kernel / 1e3
            eval_s = eval_batches * max(ev_host, ev_dev) / 1e3
            row = dict(run=run, config=key, path=path, model=c.model, neuron=c.neuron, T=c.timesteps,
                       mmac_per_image=macs[0] / 1e6, ops_per_step=n_ops, ops_per_eval_batch=n_eval,
                       cpu_ms_per_step_minimal=host_small_ms, cpu_us_per_op=us_op,
                       steps=steps, host_ms_per_step=host_ms, device_ms_per_step=dev_ms,
                       train_s=steps * step_ms / 1e3 + eval_s,
                       gpu_busy_s=steps * dev_ms / 1e3 + eval_batches * ev_dev / 1e3)
            rows.append(row)
            if path in ("-", "eager"):
                seen[key] = {k: v for k, v in row.items() if k != "run"}
            print(f"{key:<17}{path:<12} T={c.timesteps} {macs[0] / 1e6:6.1f} MMAC/img {n_ops:5d} ops/step  "
                  f"CPU minimal {host_small_ms:6.1f} ms/step ({us_op:4.1f} us/op)  H200: host "
                  f"{host_ms:5.1f} ms, device {dev_ms:5.1f} ms/step -> {row['train_s']:5.0f} s",
                  flush=True)

    def summary(choice, scale):
        """Totals with the host time per step scaled by ``scale`` (1: as measured)."""
        pick = [r for r in rows if r["path"] in ("-", choice)]
        alone = {r["run"]: r["steps"] * max(scale * r["host_ms_per_step"], r["device_ms_per_step"]) / 1e3
                 + (r["train_s"] - r["steps"] * max(r["host_ms_per_step"], r["device_ms_per_step"]) / 1e3)
                 for r in pick}
        longest = max(alone.values())
        busy = sum(r["gpu_busy_s"] for r in pick)
        return {"path": choice, "host_scale": scale, "trainings": len(pick),
                "longest_training_s": longest, "longest": max(alone, key=alone.get),
                "gpu_busy_sum_s": busy, "wall_estimate_s": args.startup_s + max(longest, busy)}

    sums = [summary("eager", 1.0), summary("eager", 0.5)]
    for s in sums:
        print(f"# host x{s['host_scale'] * args.host_factor:g}: {s['trainings']} trainings; longest alone "
              f"{s['longest_training_s']:.0f} s ({s['longest']}); device busy summed "
              f"{s['gpu_busy_sum_s']:.0f} s; wall ~ {args.startup_s:.0f} s start + the larger = "
              f"{s['wall_estimate_s']:.0f} s", flush=True)
    est = {"rows": rows, "summaries": sums,
           "assumptions": {"host_factor": args.host_factor, "us_per_kernel_device": args.us_per_kernel,
                           "tflops_effective": args.tflops, "startup_s": args.startup_s,
                           "eval_batch": args.eval_batch}}
    if args.json:
        Path(args.json).write_text(json.dumps(est, indent=2))
    return 0


def selftest(args):
    """The GPU loop's data path against the CLI's own code: the epoch order against
    ``EpochSampler``, the batched crop and flip against a training set of the CLI
    (``TensorImageDataset`` with the recipe's ``RandomCropFlip``), and the mixed
    batches against what ``train_one_epoch`` feeds the network."""
    import torch
    from torch import nn

    from snntorch_ms import data as data_mod
    from snntorch_ms.data import EpochSampler, KeyedMixUp, RandomCropFlip
    from snntorch_ms.data.seeding import mix
    from snntorch_ms.train import TrainConfig, make_scheduler, resolve_config, train_one_epoch

    n, ok = 300, True
    for seed, epoch in ((0, 0), (1, 7)):
        sampler = EpochSampler(n, seed=seed)
        sampler.set_epoch(epoch)
        g = torch.Generator().manual_seed(mix(seed, epoch) >> 1)
        ok &= list(sampler) == torch.randperm(n, generator=g).tolist()
    torch.manual_seed(0)
    raw = torch.randint(0, 256, (n, 1, 28, 28), dtype=torch.uint8)
    info = data_mod.dataset_info("fashion-mnist")
    mean, std = float(info.mean[0]), float(info.std[0])
    resident = (raw.float() / 255.0 - mean) / std  # the GPU loop's resident set
    for pad, flip in ((2, True), (4, False)):
        ds = data_mod.TensorImageDataset(raw, torch.zeros(n), info, RandomCropFlip(pad, flip))
        ds.set_epoch(5, seed=3)
        ref = torch.stack([ds[i][0] for i in range(n)])
        dy, dx, fl = crop_flip_params(ds.augment, 3, 5, n, 28, 28)
        got = gpu_crop_flip(resident, dy, dx, fl, pad, (0.0 - mean) / std)
        ok &= bool(torch.allclose(got, ref, atol=1e-5))

    class Recorder(nn.Module):  # what train_one_epoch feeds the network
        def __init__(self):
            super().__init__()
            self.fc, self.seen = nn.Linear(28 * 28, 10), []

        def forward(self, x):
            self.seen.append(x.detach().clone())
            return self.fc(x.flatten(1))

    c = resolve_config(TrainConfig(dataset="fashion-mnist", recipe="paper", seed=3, epochs=1))
    batches = [(resident[k:k + 50], torch.arange(k, k + 50) % 10) for k in range(0, n, 50)]
    net = Recorder()
    opt = torch.optim.SGD(net.parameters(), lr=0.0)
    train_one_epoch(net, batches, opt, make_scheduler(opt, len(batches)), c,
                    torch.device("cpu"), epoch=4)
    mix = KeyedMixUp(c.mixup, info.num_classes)
    for i, (x, y) in enumerate(batches):  # the GPU loop's call, as in train_gpu
        got, _ = mix(x, y, mix.key(c.seed, 4, i, 0))
        ok &= torch.equal(got, net.seen[i]) and not torch.equal(got, x)
    print(f"selftest: data order, augmentation and mixup {'match' if ok else 'DO NOT match'} "
          "the CLI's")
    return 0 if ok else 1


# ----------------------------------------------------------------------------- main

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=None, help="folder with the four IDX .gz files "
                   "(default: gpu-carry/data, then /usr/share/datasets/fashion-mnist)")
    p.add_argument("--out", default="runs/gpu-accuracy")
    p.add_argument("--work", default=None, help="per-training logs and progress (default: <out>/../.<name>-work)")
    p.add_argument("--device", default=None, help="cuda (default when available) or cpu")
    p.add_argument("--budget", type=float, default=330.0,
                   help="seconds until the driver stops what still runs and writes the table")
    p.add_argument("--jobs", type=int, default=0, help="trainings at a time (0: all at once)")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads per training")
    p.add_argument("--backend", default="triton",
                   choices=["auto", "reference", "eager", "compiled", "triton"],
                   help="ProjLeaky's backend setting (default triton: when each worker's "
                        "check of the kernels passes, else eager)")
    p.add_argument("--recipe", default="basic", help="the CLI's --recipe (default basic)")
    p.add_argument("--epochs", type=int, default=None, help="default: the recipe's (10)")
    p.add_argument("--batch-size", type=int, default=None, help="default: the recipe's (128)")
    p.add_argument("--train-limit", type=int, default=None, help="balanced training subset")
    p.add_argument("--test-limit", type=int, default=None, help="balanced test subset")
    p.add_argument("--eval-batch", type=int, default=1000)
    p.add_argument("--energy-images", type=int, default=64, help="0: no energy measurement")
    p.add_argument("--seeds", type=int, nargs="+", default=None, help="override every row's seeds")
    p.add_argument("--only", nargs="+", default=None, help="configurations or runs to train")
    p.add_argument("--best-t1", default=None, help="JSON spec filling the BEST_T1 slot")
    p.add_argument("--tiny", action="store_true",
                   help="CPU dry run: 64/64 images, 1 epoch, batch 32, two at a time")
    p.add_argument("--list", action="store_true", help="print the trainings and exit")
    p.add_argument("--estimate", action="store_true", help="the H200 time estimate (CPU)")
    p.add_argument("--selftest", action="store_true",
                   help="check the data order and augmentation against the CLI's, and exit")
    p.add_argument("--host-factor", type=float, default=1.0,
                   help="estimate: H200 host time per op / this CPU's (1: as here)")
    p.add_argument("--us-per-kernel", type=float, default=4.0,
                   help="estimate: device time of a small kernel")
    p.add_argument("--tflops", type=float, default=50.0,
                   help="estimate: effective bf16 TFLOP/s of these small convolutions")
    p.add_argument("--startup-s", type=float, default=25.0,
                   help="estimate: process start, data load, the driver's Triton check")
    p.add_argument("--json", default=None, help="estimate: write it here")
    # internal: one training in this process
    p.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    p.add_argument("--results", default=None, help=argparse.SUPPRESS)
    p.add_argument("--progress", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.device is None:
        import torch

        args.device = "cuda" if torch.cuda.is_available() else "cpu"
    if args.tiny:
        args.device = "cpu"
        args.epochs = args.epochs or 1
        args.batch_size = args.batch_size or 32
        args.train_limit = args.train_limit or 64
        args.test_limit = args.test_limit or 64
        args.eval_batch = min(args.eval_batch, 32)
        args.energy_images = min(args.energy_images, 8)
        args.jobs = args.jobs or 2
    if args.worker:
        return worker(args)
    if args.list:
        for name, spec in all_specs(args).items():
            print(name, json.dumps(spec))
        return 0
    if args.estimate:
        return estimate(args)
    if args.selftest:
        return selftest(args)
    out = Path(args.out)
    args.work = args.work or str(out.parent / f".{out.name}-work")
    return driver(args)


if __name__ == "__main__":
    sys.exit(main())
