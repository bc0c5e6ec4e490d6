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
bad flag or keyword value, an ``--out`` that is a file, an optional package that
the install lacks) print one line and exit with status 2, without a traceback
(set ``SNNTORCH_MS_DEBUG=1`` to get it). The commands need the ``train`` extra
(``pip install 'snntorch-ms[train]'``): without it the line names the missing
package and that extra.
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

from .errors import UserError

__all__ = ["main", "build_parser", "parse_kv", "UsageError"]

_PROG = "snntorch-ms"


class UsageError(UserError, ValueError):
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


def _add_config_flags(p: argparse.ArgumentParser, model_only: bool = False,
                      defaults: bool = False) -> None:
    """One flag per :class:`~snntorch_ms.train.TrainConfig` field, from the field's
    ``metadata["cli"]``; ``model_only``: the fields that describe the model (for
    ``energy``); ``defaults``: the config's defaults instead of None (not given)."""
    import dataclasses

    from .train import TrainConfig

    for f in dataclasses.fields(TrainConfig):
        meta = dict(f.metadata.get("cli", {}))
        if not meta or (model_only and not meta.pop("model")):
            continue
        meta.pop("model", None)
        names = [meta.pop("flag", "--" + f.name.replace("_", "-"))]
        if "short" in meta:
            names.append(meta.pop("short"))
        if meta["help"] is None:
            meta["help"] = argparse.SUPPRESS
        default = None
        if defaults and f.default is not dataclasses.MISSING and meta.get("action") != "append":
            default = f.default
        p.add_argument(*names, dest=f.name, default=default, **meta)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``snntorch-ms`` (subcommands ``train``, ``eval``, ``energy``).

    Example::

        >>> args = build_parser().parse_args(["train", "--epochs", "3", "--neuron-arg", "threshold=0.5"])
        >>> args.command, args.epochs, args.neuron_kwargs
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
    _add_config_flags(t)
    t.add_argument("--no-progress", action="store_true", help="no progress bars")

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
    _add_config_flags(g, model_only=True, defaults=True)
    g.add_argument("--convention", choices=("spike-driven", "paper"),
                   default="spike-driven",
                   help="spike-driven (default: AC per spike, MAC for real-valued inputs) or the "
                        "paper's Table 2")
    g.add_argument("--images", type=int, default=64, help="test images to measure on (default 64)")
    g.add_argument("--plot", metavar="PNG", help="also save the per-layer plot here")
    g.add_argument("--json", action="store_true", help="print the reports as JSON")
    return parser


def _given(args) -> Dict[str, Any]:
    """The config fields given on the command line (KEY=VALUE lists parsed)."""
    import dataclasses

    from .train import TrainConfig

    given = {}
    for f in dataclasses.fields(TrainConfig):
        value = getattr(args, f.name, None)
        if value is None or "cli" not in f.metadata:
            continue
        given[f.name] = parse_kv(value) if f.metadata["cli"].get("action") == "append" else value
    return given


def _train_config(args):
    from .train import CHECKPOINT_NAME, TrainConfig, load_checkpoint

    given = _given(args)
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
    base.update(out=args.out, resume=bool(args.resume), device=args.device or "auto",
                amp=args.amp is not False, download=args.download is not False)
    return _checked("bad flags", lambda: TrainConfig.from_dict(base))


def _train_needs(config, progress: bool) -> List[str]:
    """The optional modules a run of ``config`` needs: its data, the plots it writes,
    the progress bars it shows (a teacher or warm start trains the same dataset)."""
    from . import _extras
    from .train.runtime import Dist, use_bars

    needs = _extras.dataset_modules(config.dataset, config.recipe)
    if config.out is not None:
        needs.append("matplotlib")
    if use_bars(progress, Dist()):
        needs.append("tqdm")
    return needs


def _cmd_train(args) -> int:
    from . import _extras
    from .train import build_from_config, resolve_config, train

    config = _train_config(args)
    # every flag and keyword is checked by building the model once, before any work
    resolved = _checked("bad flags", lambda: resolve_config(config))
    _checked("bad model or neuron settings", lambda: build_from_config(resolved))
    # and every optional module the run will need is there
    _extras.require(_train_needs(resolved, not args.no_progress), f"{_PROG} train")
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
    from . import _extras
    from .train import TrainConfig, build_from_config, load_sets, load_trained_model, resolve_config
    from .energy import format_joules, plot_energy
    from .train.report import measure_model_energy, test_batch
    from .train.runtime import resolve_device

    device = _checked("bad flags", lambda: resolve_device(args.device))
    if args.out or args.checkpoint:
        model, config, ckpt = load_trained_model(args.checkpoint or args.out, device)
        what = f"trained network of {ckpt['path']} (epoch {ckpt['epoch']})"
    else:
        config = _checked("bad flags", lambda: resolve_config(TrainConfig(
            dataset=args.dataset, data_dir=args.data_dir, model=args.model, neuron=args.neuron,
            timesteps=args.timesteps, seed=args.seed, out=None, download=args.download,
            neuron_kwargs=parse_kv(args.neuron_kwargs),
            model_kwargs=parse_kv(args.model_kwargs))))
        model = _checked("bad model or neuron settings",
                         lambda: build_from_config(config)).to(device).eval()
        what = f"untrained {config.model} ({config.neuron}, T={config.timesteps}), seed {config.seed}"
    if args.out or args.checkpoint:
        config.download = args.download
        if args.data_dir != "data":
            config.data_dir = args.data_dir
    _, test_set = load_sets(config, train=False)
    images = test_batch(test_set, args.images)
    result = measure_model_energy(model, config, images, args.convention)
    result["images"] = int(images.shape[0])
    if args.plot:
        _extras.require(["matplotlib"], f"{_PROG} energy --plot")
        plot_energy(result, Path(args.plot), f"{config.model} / {config.neuron} / T={config.timesteps}")
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
    print(f"energy per image: {format_joules(result['energy_j'])}; ANN twin (neuron=relu): "
          f"{format_joules(result['ann_energy_j'])}; ratio ANN/SNN {result['energy_ratio']:.2f}")
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    """Run the ``snntorch-ms`` command line; returns the exit status.

    :param argv: arguments without the program name (default ``sys.argv[1:]``).

    Example::

        >>> main(["eval", "--out", "/nonexistent-run"])  # doctest: +SKIP
        snntorch-ms: error: /nonexistent-run/checkpoint.pt: no checkpoint there ...
        2
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    handlers = {"train": _cmd_train, "eval": _cmd_eval, "energy": _cmd_energy}
    debug = bool(os.environ.get("SNNTORCH_MS_DEBUG"))
    try:
        return handlers[args.command](args)
    except UserError as err:
        if debug:
            raise
        print(f"{_PROG}: error: {err}", file=sys.stderr)
        return 2
    except ImportError as err:
        # an optional dependency missing (the core install has no extras): one line
        # naming the extra, like any error the user can fix
        from ._extras import explain

        missing = explain(err, f"{_PROG} {args.command}")
        if missing is None or debug:
            raise
        print(f"{_PROG}: error: {missing}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{_PROG}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
