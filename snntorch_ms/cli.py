r"""The ``snntorch-ms`` command line: ``train``, ``eval`` and ``energy``.

Also reachable as ``python -m snntorch_ms``. Examples::

    snntorch-ms train                                  # digits, ProjLeaky convnet, T=1: ~2 min on 2 cores
    snntorch-ms train --dataset fashion-mnist --epochs 10 --out runs/fmnist
    snntorch-ms train --out runs/fmnist --resume       # continue a killed run
    snntorch-ms train --dataset cifar100 --model cnn-mixer --recipe paper --out runs/c100
    torchrun --nproc_per_node 4 -m snntorch_ms train --dataset cifar10 --recipe paper
    snntorch-ms eval --out runs/fmnist
    snntorch-ms energy --out runs/fmnist --convention paper

``--neuron-arg KEY=VALUE`` and ``--model-arg KEY=VALUE`` (repeatable) pass
keywords to every neuron (e.g. ``threshold=0.5``, ``windows=overlap``,
``learn_threshold=true``) and to the model (e.g. ``width=0.5``,
``depths=(1,1,1,1)``). Values are read as Python literals when they parse
(numbers, ``true``/``false``/``none``, tuples), else kept as strings.

Errors a user can fix (a missing or corrupt dataset, an unusable checkpoint, a
bad flag or keyword value, an ``--out`` that is a file) print one line and exit
with status 2, without a traceback (set ``SNNTORCH_MS_DEBUG=1`` to get it).
The flags are checked, and the model built once, before any work starts; a
``ValueError`` raised later, inside training, is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

__all__ = ["main", "build_parser", "parse_kv", "UsageError"]

_PROG = "snntorch-ms"


class UsageError(ValueError):
    """A flag, keyword or path given on the command line that cannot be used;
    :func:`main` prints its message on one line and exits with status 2.

    Example::

        >>> str(UsageError("--out runs/x is a file"))
        '--out runs/x is a file'
    """


def _checked(what: str, build):
    """Run ``build()`` (config resolution, model construction: user input only),
    turning the ``ValueError``/``TypeError`` it raises into a :class:`UsageError`."""
    try:
        return build()
    except (ValueError, TypeError) as err:
        raise UsageError(f"{what}: {err}") from err


# options whose value "none" is a string of snntorch / snntorch-ms, not Python's None
_STRING_NONE_KEYS = ("projection", "reset_mechanism")


def parse_kv(items: Optional[Sequence[str]]) -> Dict[str, Any]:
    """Parse ``KEY=VALUE`` strings into a dict, values as Python literals when possible.

    ``true``/``false``/``none`` (any case) become ``True``/``False``/``None``,
    except for the keywords whose option is the *string* ``"none"``
    (``projection``, ``reset_mechanism``).

    Example::

        >>> parse_kv(["threshold=0.5", "windows=overlap", "learn_beta=true", "depths=(1,1,1,1)"])
        {'threshold': 0.5, 'windows': 'overlap', 'learn_beta': True, 'depths': (1, 1, 1, 1)}
        >>> parse_kv(["projection=none", "reset_mechanism=none", "windows=none"])
        {'projection': 'none', 'reset_mechanism': 'none', 'windows': None}
    """
    out: Dict[str, Any] = {}
    for item in items or ():
        if "=" not in item:
            raise UsageError(f"expected KEY=VALUE, got {item!r}")
        key, raw = item.split("=", 1)
        key = key.strip().replace("-", "_")
        if not key.isidentifier():
            raise UsageError(f"bad keyword name {key!r} in {item!r}")
        raw = raw.strip()
        low = raw.lower()
        if key in _STRING_NONE_KEYS and low == "none":
            value: Any = "none"
        elif low in ("true", "false", "none", "null"):
            value = {"true": True, "false": False}.get(low)
        else:
            try:
                value = ast.literal_eval(raw)
            except (ValueError, SyntaxError):
                value = raw
        out[key] = value
    return out


def _add_model_flags(p: argparse.ArgumentParser, defaults: bool) -> None:
    d = (lambda v: v) if defaults else (lambda v: None)
    p.add_argument("--dataset", default=d("digits"),
                   help="digits (bundled, default), mnist, fashion-mnist, cifar10, cifar100, tiny-imagenet")
    p.add_argument("--data-dir", default=d("data"), help="dataset folder (default ./data)")
    p.add_argument("--no-download", action="store_true",
                   help="never download: a missing dataset is an error at once")
    p.add_argument("--model", default=d("convnet"),
                   help="convnet (default), cnn-mixer, lstm-mixer, resnet19, vgg11")
    p.add_argument("--neuron", default=d("proj"), help="proj (ProjLeaky, default), leaky, relu (ANN)")
    p.add_argument("--timesteps", "-T", type=int, default=d(1), help="time steps (default 1)")
    p.add_argument("--neuron-arg", action="append", metavar="KEY=VALUE",
                   help="neuron keyword, repeatable (threshold=0.5, windows=overlap, ...)")
    p.add_argument("--model-arg", action="append", metavar="KEY=VALUE",
                   help="model keyword, repeatable (width=0.5, depths=(1,1,1,1), ...)")
    p.add_argument("--seed", type=int, default=d(0), help="random seed (default 0)")
    p.add_argument("--device", default="auto", help="auto (default: CUDA if available), cpu, cuda, cuda:1")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``snntorch-ms`` (subcommands ``train``, ``eval``, ``energy``).

    Example::

        >>> args = build_parser().parse_args(["train", "--epochs", "3", "--neuron-arg", "threshold=0.5"])
        >>> args.command, args.epochs, args.neuron_arg
        ('train', 3, ['threshold=0.5'])
    """
    from . import __version__

    parser = argparse.ArgumentParser(
        prog=_PROG,
        description="Train, evaluate and measure the energy of one-time-step spiking networks "
                    "(ProjLeaky) and their snntorch / ANN counterparts.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="{train,eval,energy}")
    sub.required = True

    t = sub.add_parser(
        "train", help="train a network; writes checkpoint, metrics.json and plots into --out",
        description="Train a network. Writes DIR/checkpoint.pt after every epoch, then "
                    "DIR/metrics.json, DIR/curves.png and DIR/energy.png. Flags left out take "
                    "the recipe's values (basic: Adam; paper: the paper's SGD recipe); with "
                    "--resume they default to the checkpoint's.",
    )
    _add_model_flags(t, defaults=False)
    t.add_argument("--recipe", choices=("basic", "paper"), default=None,
                   help="basic (default: Adam, cosine) or paper (SGD 0.05, warm-up + cosine, "
                        "crop+flip, mixup 0.1, dropout 0.1, clip 20)")
    t.add_argument("--epochs", type=int, help="epochs (default: by recipe and dataset)")
    t.add_argument("--batch-size", type=int, help="batch size per process")
    t.add_argument("--lr", type=float, help="peak learning rate")
    t.add_argument("--weight-decay", type=float)
    t.add_argument("--momentum", type=float, help="SGD momentum (default 0.9)")
    t.add_argument("--optimizer", choices=("sgd", "adam", "adamw"))
    t.add_argument("--warmup-epochs", type=float)
    t.add_argument("--mixup", type=float, help="mixup alpha (0: off)")
    t.add_argument("--label-smoothing", type=float)
    t.add_argument("--dropout", type=float)
    t.add_argument("--grad-clip", type=float, help="max gradient norm (0: off)")
    t.add_argument("--limit-train", type=int, metavar="N", help="train on a balanced subset of N images")
    t.add_argument("--limit-test", type=int, metavar="N", help="test on a balanced subset of N images")
    t.add_argument("--out", help="output folder (default runs/<dataset>-<model>-<neuron>-T<T>)")
    t.add_argument("--resume", action="store_true",
                   help="continue the run in --out from its last finished epoch")
    t.add_argument("--workers", type=int, help="data loader workers (default 0 on CPU)")
    t.add_argument("--no-amp", action="store_true", help="no bf16 autocast on CUDA")
    t.add_argument("--energy-images", type=int, help="test images for the energy measurement (default 64)")
    t.add_argument("--threads", type=int,
                   help="CPU threads (default: torch's, or 1 when the machine is already busy)")
    t.add_argument("--no-progress", action="store_true", help="no progress bars")
    t.add_argument("--stop-after", type=int, help=argparse.SUPPRESS)  # simulates a kill (tests)

    e = sub.add_parser("eval", help="test accuracy of a trained run",
                       description="Load a checkpoint and print its test accuracy.")
    src = e.add_mutually_exclusive_group(required=True)
    src.add_argument("--out", help="run folder (holding checkpoint.pt)")
    src.add_argument("--checkpoint", help="checkpoint file")
    e.add_argument("--device", default="auto")
    e.add_argument("--data-dir", help="dataset folder (default: the run's)")
    e.add_argument("--limit-test", type=int, metavar="N", help="test subset size (default: the run's)")
    e.add_argument("--batch-size", type=int)
    e.add_argument("--json", action="store_true", help="print the result as JSON")

    g = sub.add_parser(
        "energy", help="energy report of a trained run, or of an untrained model",
        description="Per-layer synaptic operations, firing rates and energy of a network on "
                    "real test images, and of its ANN twin. With --out/--checkpoint: the trained "
                    "network; otherwise the model flags build an untrained one.",
    )
    src = g.add_mutually_exclusive_group()
    src.add_argument("--out", help="run folder (holding checkpoint.pt)")
    src.add_argument("--checkpoint", help="checkpoint file")
    _add_model_flags(g, defaults=True)
    g.add_argument("--convention", choices=("honest", "paper"), default="honest",
                   help="honest (default: AC per spike, MAC for real-valued inputs) or the paper's Table 2")
    g.add_argument("--images", type=int, default=64, help="test images to measure on (default 64)")
    g.add_argument("--plot", metavar="PNG", help="also save the per-layer plot here")
    g.add_argument("--json", action="store_true", help="print the reports as JSON")
    return parser


_TRAIN_FIELDS = {
    "dataset": "dataset", "data_dir": "data_dir", "model": "model", "neuron": "neuron",
    "timesteps": "timesteps", "recipe": "recipe", "epochs": "epochs", "batch_size": "batch_size",
    "lr": "lr", "weight_decay": "weight_decay", "momentum": "momentum", "optimizer": "optimizer",
    "warmup_epochs": "warmup_epochs", "mixup": "mixup", "label_smoothing": "label_smoothing",
    "dropout": "dropout", "grad_clip": "grad_clip", "limit_train": "limit_train",
    "limit_test": "limit_test", "seed": "seed", "workers": "workers",
    "energy_images": "energy_images", "stop_after": "stop_after", "threads": "threads",
}


def _train_config(args):
    from .train import CHECKPOINT_NAME, TrainConfig, load_checkpoint

    given = {field: getattr(args, attr) for attr, field in _TRAIN_FIELDS.items()
             if getattr(args, attr) is not None}
    if args.neuron_arg:
        given["neuron_kwargs"] = parse_kv(args.neuron_arg)
    if args.model_arg:
        given["model_kwargs"] = parse_kv(args.model_arg)
    if args.out is None:
        ds = given.get("dataset", "digits").lower().replace("_", "-")
        args.out = f"runs/{ds}-{given.get('model', 'convnet')}-{given.get('neuron', 'proj')}-T{given.get('timesteps', 1)}"
    if Path(args.out).exists() and not Path(args.out).is_dir():
        raise UsageError(f"--out {args.out} is a file: --out names the folder the run writes "
                         "its checkpoint, metrics and plots into; choose another path")
    base: Dict[str, Any] = {}
    ckpt_file = Path(args.out) / CHECKPOINT_NAME
    if args.resume and ckpt_file.exists():
        # flags left out continue the saved run; flags given must agree with it
        base = dict(load_checkpoint(ckpt_file)["config"])
        base.pop("stop_after", None)
    base.update(given)
    base.update(out=args.out, resume=bool(args.resume), device=args.device,
                amp=not args.no_amp, download=not args.no_download)
    return _checked("bad flags", lambda: TrainConfig.from_dict(base))


def _cmd_train(args) -> int:
    from .train import build_from_config, resolve_config, train

    config = _train_config(args)
    # every flag and keyword is checked by building the model once, before any work
    _checked("bad model or neuron settings",
             lambda: build_from_config(resolve_config(config)))
    train(config, progress=not args.no_progress)
    return 0


def _cmd_eval(args) -> int:
    from .train import evaluate_checkpoint

    result = evaluate_checkpoint(args.checkpoint or args.out, device=args.device,
                                 data_dir=args.data_dir, limit_test=args.limit_test,
                                 batch_size=args.batch_size, progress=sys.stderr.isatty())
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"test accuracy: {result['test_acc']:.2f} %  (loss {result['test_loss']:.4f}, "
              f"{result['images']} images, checkpoint of epoch {result['epoch']}/{result['epochs']}: "
              f"{result['checkpoint']})")
    return 0


def _cmd_energy(args) -> int:
    from .train import (TrainConfig, _load_sets, _resolve_device, _Dist, _fmt_j, _plot_energy,
                        _test_batch, build_from_config, load_trained_model,
                        measure_model_energy, resolve_config)

    device = _resolve_device(args.device, _Dist())
    if args.out or args.checkpoint:
        model, config, ckpt = load_trained_model(args.checkpoint or args.out, device)
        what = f"trained network of {ckpt['path']} (epoch {ckpt['epoch']})"
    else:
        config = _checked("bad flags", lambda: resolve_config(TrainConfig(
            dataset=args.dataset, data_dir=args.data_dir, model=args.model, neuron=args.neuron,
            timesteps=args.timesteps, seed=args.seed, out=None, download=not args.no_download,
            neuron_kwargs=parse_kv(args.neuron_arg), model_kwargs=parse_kv(args.model_arg))))
        model = _checked("bad model or neuron settings",
                         lambda: build_from_config(config)).to(device).eval()
        what = f"untrained {config.model} ({config.neuron}, T={config.timesteps}), seed {config.seed}"
    if args.out or args.checkpoint:
        config.download = not args.no_download
        if args.data_dir != "data":
            config.data_dir = args.data_dir
    _, test_set = _load_sets(config, train=False)
    images = _test_batch(test_set, args.images)
    result = measure_model_energy(model, config, images, args.convention)
    result["images"] = int(images.shape[0])
    if args.plot:
        _plot_energy(result, Path(args.plot), f"{config.model} / {config.neuron} / T={config.timesteps}")
    if args.json:
        print(json.dumps({
            "convention": args.convention, "images": result["images"],
            "energy_j": result["energy_j"], "ann_energy_j": result["ann_energy_j"],
            "energy_ratio": result["energy_ratio"], "firing_rates": result["firing_rates"],
            "report": result["report"].to_dict(), "ann_report": result["ann_report"].to_dict(),
        }, indent=2, default=str))
        return 0
    print(f"{what}, {config.dataset}, {result['images']} test images, {args.convention} convention")
    print(result["report"].as_table())
    print(f"energy per image: {_fmt_j(result['energy_j'])}; ANN twin (neuron=relu): "
          f"{_fmt_j(result['ann_energy_j'])}; ratio ANN/SNN {result['energy_ratio']:.2f}")
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    """Run the ``snntorch-ms`` command line; returns the exit status.

    :param argv: arguments without the program name (default ``sys.argv[1:]``).

    Example::

        >>> main(["eval", "--out", "/nonexistent-run"])  # doctest: +SKIP
        snntorch-ms: error: /nonexistent-run/checkpoint.pt: no checkpoint there ...
        2
    """
    from .data import DatasetNotFoundError
    from .train import CheckpointError

    parser = build_parser()
    args = parser.parse_args(argv)
    handlers = {"train": _cmd_train, "eval": _cmd_eval, "energy": _cmd_energy}
    debug = bool(os.environ.get("SNNTORCH_MS_DEBUG"))
    try:
        return handlers[args.command](args)
    except (DatasetNotFoundError, CheckpointError, UsageError) as err:
        if debug:
            raise
        print(f"{_PROG}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{_PROG}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
