"""Parity of ProjLeaky's fused paths on a device against the float32 reference path on
the CPU, in float32 and bfloat16: what the test suite's CUDA tests do not cover
(they run float32 only), plus one whole network per neuron layout.

    python benchmarks/gpu_parity.py --device cuda --json parity.json
    python benchmarks/gpu_parity.py --device cpu --compile-backend aot_eager   # dry run

Every case is a result, never the end of the run: a Triton kernel or a
``torch.compile`` that fails is recorded with its error and the next case runs.

Cases (neuron level): path, a value of ProjLeaky's ``backend`` (``eager``: the
fused path on eager math; ``compiled``: its math under ``torch.compile``;
``triton``: the hand-written Triton kernels)
x dtype (float32, bfloat16) x windows (quad, overlap), two time steps with a
lateral membrane and learnable beta / threshold / theta, as in the suite.

* float32: outputs and gradients within 1e-4 of the CPU reference (the suite's
  tolerance).
* bfloat16: input rounded to bf16 for both sides; a rounding may flip a spike
  sitting at the threshold (and its reset), so, as in the suite's CPU bf16 test,
  at most 5 % of spikes may differ and at most 5 % of membrane values by more
  than 0.05; the input gradient must point the same way (cosine >= 0.95).

Network level: the ConvNet (map layout) and a small CNN mixer (stack layout,
lateral) on the device with every ProjLeaky on that backend, against the same
network on the reference path, one forward and backward under bf16 autocast
(CUDA) or float32 (CPU): logits and weight gradients compared by cosine.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
import warnings
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from snntorch_ms import ProjLeaky  # noqa: E402
from snntorch_ms.functional.fused import configure  # noqa: E402

LEARN = dict(learn_beta=True, learn_threshold=True, learn_theta=True)


def two_steps(neuron, x, lat):
    """Two time steps with a lateral membrane; gradients of input, lateral, params."""
    x = x.clone().requires_grad_()
    lat = lat.clone().requires_grad_()
    outs = []
    for t in range(2):
        spk, mem = neuron(x * (1.0 + 0.4 * t), lateral=lat)
        outs += [spk, mem]
    g = torch.Generator(device="cpu").manual_seed(123)
    weights = [torch.rand(o.shape, generator=g).to(o.device) for o in outs]
    loss = sum((o.float() * w).sum() * (i + 1) for i, (o, w) in enumerate(zip(outs, weights)))
    params = [p for _, p in sorted(neuron.named_parameters())]
    grads = torch.autograd.grad(loss, [x, lat] + params, allow_unused=True)
    return [o.detach().float().cpu() for o in outs], [None if g is None else g.float().cpu()
                                                     for g in grads]


def runs(neuron, path, device):
    """None when ``neuron`` runs ``path`` on ``device``, else a skipped result."""
    try:
        neuron.resolved_backend(device)
    except ValueError as err:  # e.g. the Triton kernels on the CPU without the interpreter
        return {"status": "skipped", "why": str(err)[:300]}
    return None


def compile_failed(caught) -> bool:
    """Whether the 'compiled' engine fell back to the eager math (it warns once)."""
    return any("torch.compile failed" in str(w.message) for w in caught)


def cosine(a, b):
    a, b = a.flatten().double(), b.flatten().double()
    den = a.norm() * b.norm()
    return float((a @ b) / den) if den > 0 else float(torch.equal(a, b))


def neuron_case(path, dtype, windows, device, args):
    kwargs = dict(beta=0.7, threshold=0.8, windows=windows, **LEARN)
    torch.manual_seed(0)
    shape = tuple(args.shape)
    x = (torch.rand(*shape) * 1.6 - 0.1).to(dtype)
    lat = torch.randn(*shape).to(dtype)
    ref = ProjLeaky(backend="reference", **kwargs)
    out_r, g_r = two_steps(ref, x.float(), lat.float())  # bf16-rounded input, float32 math
    try:
        fused = ProjLeaky(backend=path, **kwargs).to(device)
    except ImportError as err:  # triton missing
        return {"status": "skipped", "why": str(err)[:300]}
    fused.load_state_dict(ref.state_dict())
    skipped = runs(fused, path, device)
    if skipped:
        return skipped
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out_f, g_f = two_steps(fused, x.to(device), lat.to(device))
    for w in caught:  # into the case's record too
        warnings.warn(w.message, w.category)
    if compile_failed(caught):
        return {"status": "FAIL", "why": "torch.compile failed; the fused path fell back "
                                         "to the eager math (see warnings)"}
    res = {"max_abs_out": max(float((a - b).abs().max()) for a, b in zip(out_r, out_f)),
           "max_abs_grad": max(float((a - b).abs().max()) for a, b in zip(g_r, g_f)
                               if a is not None and b is not None)}
    spk_r, mem_r = torch.stack(out_r[0::2]), torch.stack(out_r[1::2])
    spk_f, mem_f = torch.stack(out_f[0::2]), torch.stack(out_f[1::2])
    res["spike_mismatch"] = float((spk_r != spk_f).float().mean())
    res["mem_off_0.05"] = float(((mem_r - mem_f).abs() > 0.05).float().mean())
    res["grad_x_cosine"] = cosine(g_r[0], g_f[0])
    if dtype == torch.float32:
        ok = res["max_abs_out"] <= 1e-4 + 1e-4 * max(float(o.abs().max()) for o in out_r)
        ok = ok and all(torch.allclose(b, a, atol=1e-4, rtol=1e-4)
                        for a, b in zip(g_r, g_f) if a is not None and b is not None)
    else:
        ok = (res["spike_mismatch"] <= 0.05 and res["mem_off_0.05"] <= 0.05
              and res["grad_x_cosine"] >= 0.95)
    res["status"] = "ok" if ok else "FAIL"
    return res


def network_case(model_name, path, device, args):
    from snntorch_ms.models import build_model
    from snntorch_ms.utils import set_backend

    size = dict(args.net_kwargs.get(model_name, {}))
    torch.manual_seed(0)
    ref = build_model(model_name, "proj", num_classes=10, in_channels=1, image_size=28, **size)
    net = build_model(model_name, "proj", num_classes=10, in_channels=1, image_size=28, **size)
    net.load_state_dict(ref.state_dict())
    ref = set_backend(ref.to(device).train(), "reference")
    net = net.to(device).train()  # "auto": the process-wide default set below
    x = torch.randn(args.net_batch, 1, 28, 28, device=device)
    y = torch.arange(args.net_batch, device=device) % 10
    amp = device.type == "cuda"
    # every neuron that can run `path` on this device runs it, the others "auto"'s rule
    old = configure(backend=path)
    try:
        engines = {m.resolved_backend(device) for m in net.modules() if isinstance(m, ProjLeaky)}
        if path not in engines:
            return {"status": "skipped", "why": f"no neuron of {model_name} runs {path!r} on "
                                                f"{device.type}: {sorted(engines)}"}
        outs = []
        for model in (ref, net):
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
                logits = model(x)
            torch.nn.functional.cross_entropy(logits.float(), y).backward()
            grads = torch.cat([p.grad.flatten().float() for p in model.parameters()
                               if p.grad is not None])
            outs.append((logits.detach().float().cpu(), grads.cpu()))
    finally:
        configure(**old)
    (l_r, g_r), (l_f, g_f) = outs
    res = {"logits_cosine": cosine(l_r, l_f), "grad_cosine": cosine(g_r, g_f),
           "argmax_agree": float((l_r.argmax(1) == l_f.argmax(1)).float().mean()),
           "amp_bf16": amp}
    res["status"] = "ok" if res["logits_cosine"] >= 0.98 and res["grad_cosine"] >= 0.95 else "FAIL"
    return res


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--paths", nargs="+", default=["eager", "compiled", "triton"])
    p.add_argument("--dtypes", nargs="+", default=["float32", "bfloat16"])
    # the shape and options of the suite's CUDA test: its compiled float32 graphs are
    # then in inductor's on-disk cache already when this runs after it
    p.add_argument("--shape", type=int, nargs=4, default=[4, 8, 10, 9])
    p.add_argument("--net-paths", nargs="+", default=None,
                   help="paths of the network cases (default: those of --paths)")
    p.add_argument("--compile-backend", default="inductor")
    p.add_argument("--net-batch", type=int, default=16)
    p.add_argument("--tiny", action="store_true", help="small networks (dry run)")
    p.add_argument("--no-networks", action="store_true")
    p.add_argument("--threads", type=int, default=1, help="CPU threads (reference side)")
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    args.net_kwargs = {"convnet": {"width": 0.25} if args.tiny else {},
                       "cnn-mixer": {"dims": (8, 16, 16, 16) if args.tiny else (16, 32, 64, 128),
                                     "depths": (1, 1, 1, 1) if args.tiny else (1, 1, 2, 1)}}
    configure(compile_backend=args.compile_backend)
    machine = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    print(f"# fused-path parity on {device} ({machine}), torch {torch.__version__}, "
          f"TRITON_INTERPRET={os.environ.get('TRITON_INTERPRET', '0')}", flush=True)
    cases = [("neuron", path, dtype, windows) for path in args.paths for dtype in args.dtypes
             for windows in ("quad", "overlap")]
    if not args.no_networks:
        cases += [("network", path, model, None) for path in (args.net_paths or args.paths)
                  for model in ("convnet", "cnn-mixer")]
    results = []
    for kind, path, what, windows in cases:
        t0 = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                if kind == "neuron":
                    res = neuron_case(path, getattr(torch, what), windows, device, args)
                else:
                    res = network_case(what, path, device, args)
            except Exception as err:  # a failed kernel or compile is a result
                res = {"status": "ERROR", "why": f"{type(err).__name__}: {err}"[:2000]}
                traceback.print_exc()
        res.update(kind=kind, path=path, what=what, windows=windows,
                   seconds=round(time.perf_counter() - t0, 2),
                   warnings=sorted({str(w.message)[:300] for w in caught}))
        results.append(res)
        detail = {k: (round(v, 6) if isinstance(v, float) else v) for k, v in res.items()
                  if k not in ("kind", "path", "what", "windows", "warnings", "status")}
        print(f"{res['status']:<8}{kind:<8}{path:<9}{what:<10}{windows or '':<8}{detail}", flush=True)
        if args.json:  # after every case: a cut run keeps what it did
            Path(args.json).write_text(json.dumps(
                {"benchmark": "gpu_parity", "device": str(device), "machine": machine,
                 "torch": torch.__version__, "results": results}, indent=2))
    bad = [r for r in results if r["status"] in ("FAIL", "ERROR")]
    print(f"# {len(results) - len(bad)} of {len(results)} cases ok or skipped; "
          f"{len(bad)} failed" + (": " + ", ".join(f"{r['kind']}/{r['path']}/{r['what']}/"
                                                   f"{r['windows']}" for r in bad) if bad else ""))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
