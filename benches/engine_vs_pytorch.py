#!/usr/bin/env python3
"""Redance's engine (ONNX Runtime, Rust) against PyTorch eager (diffusers UNet1DModel + the Dance Diffusion
notebook's sampler maths), same weights, same shapes, same machine, alternating, in one run.

    target/venv-models/bin/python benches/engine_vs_pytorch.py                 # full-size + default model, 3 reps
    target/venv-models/bin/python benches/engine_vs_pytorch.py --reps 7 --models full
    target/venv-models/bin/python benches/engine_vs_pytorch.py --models full --workloads call1 \\
        --engine base= --engine basic='--opt basic' --engine t1='--threads 1'  # compare engine levers

Not a test, and not part of the build: torch and diffusers live in target/venv-models only.

What is timed (each workload, each repetition, every contender in turn, order rotated per repetition):
  call1      one model call at --length samples (default 65536), batch 1
  call2      the same at batch 2
  variation  a whole variation job: a 2-window test signal (2*65536 - 65536/8 frames at the model's rate),
             strength --strength, --sampler / --steps; the engine runs its real job driver (windows, sampler,
             crossfade), PyTorch runs the same windows and the same sampler maths, window by window.
Contenders run in their own long-lived worker processes (model loaded once); each reports its peak RSS during
the request (VmHWM, reset before each request through /proc/self/clear_refs).

Models:
  full   the full-size Dance Diffusion configuration (221 M parameters, as glitch-440k / maestro-150k) with
         random weights (seed 0; weights do not change cost), exported once with the project's exporter
         (models/dd_onnx.py, hierarchical GroupNorm) to target/bench/full-size-random/ and reused.
  small  the built-in default (models/default); PyTorch gets its configuration and weights read back from its
         graph (models/onnx_weights.py), so both sides run the same network.
FLOPs are counted once per model (torch.utils.flop_counter on meta tensors, the export-prepared graph: the
maths both sides must do) and cached in target/bench/flops.json.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = os.path.join(ROOT, "models")
BENCH = os.path.join(ROOT, "target", "bench")
FULL_DIR = os.environ.get("REDANCE_BENCH_FULL_DIR") or os.path.join(BENCH, "full-size-random")
# benches/gpu/run.sh points these at what it carried to the GPU machine (no cargo there).
ENGINE_BIN = os.environ.get("REDANCE_BENCH_BIN") or os.path.join(ROOT, "target", "release", "examples", "bench_calls")
sys.path.insert(0, MODELS)


# --------------------------------------------------------------------------- models

def small_config():
    import onnx_weights

    return onnx_weights.config_from_onnx(os.path.join(MODELS, "default", "model.onnx"))


def full_config():
    import dd_onnx

    return dd_onnx.dance_config(sample_rate=48000)


def torch_model(which: str):
    import torch

    import dd_onnx

    if which == "full":
        torch.manual_seed(0)
        return dd_onnx.build_unet(full_config()).eval()
    # the built-in model's own weights, read back from its graph (no training checkpoint needed)
    import onnx_weights

    return onnx_weights.unet_from_onnx(os.path.join(MODELS, "default", "model.onnx"))[0].eval()


def ensure_full_export(log=print) -> str:
    """target/bench/full-size-random/{model.onnx, manifest.json}, exported once (several minutes)."""
    manifest = os.path.join(FULL_DIR, "manifest.json")
    if os.path.isfile(manifest) and os.path.isfile(os.path.join(FULL_DIR, "model.onnx")):
        return FULL_DIR
    import torch

    import dd_onnx

    torch.set_num_threads(os.cpu_count() or 2)
    log(f"exporting the full-size configuration to {FULL_DIR} (once; takes minutes) ...")
    unet = torch_model("full")
    dd_onnx.export_onnx(unet, FULL_DIR, name="full-size-random",
                        description="benchmark: full-size Dance Diffusion config, random weights (seed 0)",
                        sample_rate=48000, window_length=65536, hierarchical_groupnorm=True, verify=False)
    return FULL_DIR


def count_flops(which: str, length: int) -> dict:
    """FLOPs of one batch-1 call at `length` (conv + matmul, as torch's flop counter counts them)."""
    cache = os.path.join(BENCH, "flops.json")
    cfg = full_config() if which == "full" else small_config()
    # keyed by the widths too: a new built-in model must not reuse the old one's count
    key = f"{which}{cfg['block_out_channels']}@{length}".replace(" ", "")
    data = json.load(open(cache)) if os.path.isfile(cache) else {}
    if key in data:
        return data[key]
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    import dd_onnx

    out = {}
    for label, prepare in (("export_graph", True), ("diffusers_eager", False)):
        with torch.device("meta"):
            unet = dd_onnx.build_unet(cfg).eval()
            if prepare:
                unet = dd_onnx.prepare_for_export(unet)
            x = torch.empty(1, 2, length)
            t = torch.empty(1)
            with torch.no_grad(), FlopCounterMode(display=False) as fc:
                unet(x, t)
        out[label] = fc.get_total_flops()
    data[key] = out
    os.makedirs(BENCH, exist_ok=True)
    json.dump(data, open(cache, "w"), indent=2)
    return out


# --------------------------------------------------------------------------- the PyTorch side

def alpha_sigma(t):
    return math.cos(t * math.pi / 2), math.sin(t * math.pi / 2)


def crash_schedule(steps):
    out = []
    for i in range(steps + 1):
        s = math.sin(i / steps * math.pi / 2) ** 2
        out.append(math.atan2(s, math.sqrt(max(1 - s * s, 0.0))) / (math.pi / 2))
    return out


def variation_times(steps, strength):
    ts = [t for t in crash_schedule(steps) if t < strength or t == 0.0] if strength < 1 else crash_schedule(steps)
    return sorted(ts, reverse=True)


def window_starts(frames, window, overlap):
    if frames <= window:
        return [0]
    overlap = min(overlap, window // 2)
    hop = window - overlap
    count = max(-(-(frames - overlap) // hop), 2)
    span = frames - window
    return [round(i * span / (count - 1)) for i in range(count)]


def test_signal(rate, frames):
    import numpy as np

    t = np.arange(frames) / rate
    env = 0.5 + 0.5 * np.cos(2 * np.pi * 2.0 * t)
    ch = [0.25 * env * (np.sin(2 * np.pi * 220.0 * t + p) + 0.5 * np.sin(2 * np.pi * 331.0 * t)) for p in (0.0, 0.3)]
    return np.stack(ch).astype(np.float32)


def torch_sample(model, x, ts, sampler):
    """The notebook's samplers on a v-model (t continuous in [0, 1]); x already noised to ts[0]."""
    import torch

    if sampler == "ddim":
        for t, t1 in zip(ts, ts[1:]):
            a, s = alpha_sigma(t)
            a1, s1 = alpha_sigma(t1)
            v = model(x, torch.full((x.shape[0],), t))
            pred, eps = a * x - s * v, s * x + a * v
            x = pred * a1 + eps * s1
        return x
    if sampler == "iplms":  # k-diffusion / notebook plms with up to 4 past eps
        hist = []
        for t, t1 in zip(ts, ts[1:]):
            a, s = alpha_sigma(t)
            a1, s1 = alpha_sigma(t1)
            v = model(x, torch.full((x.shape[0],), t))
            eps = s * x + a * v
            n = len(hist)
            if n == 0:
                e1, pred = eps, a * x - s * v
            else:
                if n == 1:
                    e1 = (3 * eps - hist[-1]) / 2
                elif n == 2:
                    e1 = (23 * eps - 16 * hist[-1] + 5 * hist[-2]) / 12
                else:
                    e1 = (55 * eps - 59 * hist[-1] + 37 * hist[-2] - 9 * hist[-3]) / 24
                pred = (x - s * e1) / a
            x = pred * a1 + e1 * s1
            hist = (hist + [eps])[-3:]
        return x
    if sampler == "dpmpp-2m":
        old, h_last = None, None
        lam = lambda t: math.log(alpha_sigma(t)[0] / alpha_sigma(t)[1])  # noqa: E731
        for t, t1 in zip(ts, ts[1:]):
            a, s = alpha_sigma(t)
            a1, s1 = alpha_sigma(t1)
            v = model(x, torch.full((x.shape[0],), t))
            d = a * x - s * v
            if s1 == 0:
                return d
            h = lam(t1) - lam(t)
            gain = -a1 * math.expm1(-h)
            if old is not None and h_last is not None:
                r = h_last / h
                x = (s1 / s) * x + gain * ((1 + 1 / (2 * r)) * d - (1 / (2 * r)) * old)
            else:
                x = (s1 / s) * x + gain * d
            old, h_last = d, h
        return x
    raise ValueError(sampler)


def torch_worker(which: str, threads: int, device: str = "cpu", half: bool = False):
    import torch

    torch.set_num_threads(threads)
    reset_hwm()
    t0 = time.perf_counter()
    dtype = torch.float16 if half else torch.float32
    unet = torch_model(which).to(device)
    if half:
        unet = unet.half()
    load_s = time.perf_counter() - t0
    rate = 48000
    gpu = device.startswith("cuda")

    def model(x, t):
        return unet(x.to(device, dtype), t.to(device, dtype), return_dict=False)[0].float()

    def sync():
        if gpu:
            torch.cuda.synchronize()

    def peak():
        """Host RSS high-water mark; on a GPU, the device's peak allocation is added as gpu_mib."""
        return hwm_mib()

    def reset():
        reset_hwm()
        if gpu:
            torch.cuda.reset_peak_memory_stats()

    def extra():
        return {"gpu_mib": torch.cuda.max_memory_allocated() / 2**20} if gpu else {}

    say({"event": "ready", "load_s": load_s, "hwm_mib": hwm_mib(), "torch": torch.__version__, "threads": threads,
         "device": device + (" fp16" if half else "")})
    for line in sys.stdin:
        w = line.split()
        if not w or w[0] == "quit":
            break
        if w[0] == "call":
            length, batch = int(w[1]), int(w[2])
            g = torch.Generator().manual_seed(1)
            x = torch.randn(batch, 2, length, generator=g)
            t = torch.full((batch,), 0.5)
            reset()
            t0 = time.perf_counter()
            with torch.no_grad():
                model(x, t).cpu()
            sync()
            say({"seconds": time.perf_counter() - t0, "hwm_mib": peak(), "calls": 1, **extra()})
        elif w[0] == "variation":
            frames, steps, sampler, strength = int(w[1]), int(w[2]), w[3], float(w[4])
            window, overlap = 65536, 65536 // 8
            src = torch.from_numpy(test_signal(rate, frames)).to(device)
            ts = variation_times(steps, strength)
            reset()
            t0 = time.perf_counter()
            out = torch.zeros(2, frames, device=device)
            g = torch.Generator().manual_seed(0)
            noise = torch.randn(2, frames, generator=g).to(device)
            starts = window_starts(frames, window, overlap)
            calls = 0
            prev_end = 0
            with torch.no_grad():
                for i, st in enumerate(starts):
                    x0 = src[:, st:st + window]
                    a, s = alpha_sigma(ts[0])
                    x = (a * x0 + s * noise[:, st:st + window])[None]
                    y = torch_sample(model, x, ts, sampler)[0] if len(ts) > 1 else x0
                    calls += len(ts) - 1
                    ov = max(prev_end - st, 0) if i else 0
                    if ov:
                        f = torch.linspace(0, 1, ov, device=device)
                        fin, fout = torch.sin(f * math.pi / 2), torch.cos(f * math.pi / 2)
                        out[:, st:st + ov] = out[:, st:st + ov] * fout + y[:, :ov] * fin
                    out[:, st + ov:st + window] = y[:, ov:]
                    prev_end = st + window
            out = out.cpu()
            sync()
            say({"seconds": time.perf_counter() - t0, "hwm_mib": peak(), "calls": calls, "windows": len(starts),
                 "audio_s": frames / rate, "rms": float(out.pow(2).mean().sqrt()), **extra()})
        else:
            raise ValueError(line)


# --------------------------------------------------------------------------- shared

def reset_hwm():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def hwm_mib():
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def say(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


class Worker:
    def __init__(self, name, argv, env=None):
        self.name = name
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT,
                                     env=env)
        self.ready = self._read()

    def _read(self):
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.name}: worker exited ({self.proc.wait()})")
        return json.loads(line)

    def ask(self, request):
        self.proc.stdin.write(request + "\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self):
        try:
            self.proc.stdin.write("quit\n")
            self.proc.stdin.close()
        except OSError:
            pass
        self.proc.wait(timeout=60)


def build_engine():
    if os.environ.get("REDANCE_BENCH_BIN"):
        return
    r = subprocess.run(["cargo", "build", "--release", "-q", "-p", "redance-engine", "--example", "bench_calls"],
                       cwd=ROOT)
    if r.returncode:
        sys.exit("cargo build of the bench_calls example failed")


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def spread(xs):
    """(min, max) of a list."""
    return (min(xs), max(xs)) if xs else (float("nan"), float("nan"))


def run_model(which, args, engines):
    model_dir = ensure_full_export() if which == "full" else "default"
    flops = count_flops(which, args.length)
    frames = 2 * 65536 - 65536 // 8
    workloads = {
        "call1": f"call {args.length} 1",
        "call2": f"call {args.length} 2",
        "variation": f"variation {frames} {args.steps} {args.sampler} {args.strength}",
    }
    workloads = {k: v for k, v in workloads.items() if k in args.workloads}
    print(f"\n=== {which} model ({'target/bench/full-size-random' if which == 'full' else 'models/default'}), "
          f"{args.reps} reps, {args.threads} threads ===", flush=True)
    workers = []
    env = dict(os.environ)
    for name, extra in engines:
        argv = [ENGINE_BIN, model_dir, "--threads", str(args.threads)] + extra.split()
        w = Worker(name, argv, env)
        print(f"{name}: ready in {w.ready['load_s']:.2f} s, {w.ready['hwm_mib']:.0f} MiB "
              f"({w.ready.get('device')}; provider note: {w.ready.get('provider_note')})", flush=True)
        workers.append(w)
    tw = Worker("pytorch", [sys.executable, os.path.abspath(__file__), "--worker", which, "--threads",
                            str(args.threads), "--torch-device", args.torch_device]
                + (["--torch-fp16"] if args.torch_fp16 else []))
    print(f"pytorch: ready in {tw.ready['load_s']:.2f} s, {tw.ready['hwm_mib']:.0f} MiB (torch "
          f"{tw.ready['torch']})", flush=True)
    workers.append(tw)
    results = {w.name: {k: [] for k in workloads} for w in workers}
    try:
        for key, req in workloads.items():  # one warm-up each (allocators, caches, lazy init)
            for w in workers:
                w.ask(req if key != "variation" else f"call {args.length} 1")
        for rep in range(args.reps):
            for key, req in workloads.items():
                order = workers[rep % len(workers):] + workers[:rep % len(workers)]
                for w in order:
                    r = w.ask(req)
                    results[w.name][key].append(r)
                    print(f"  rep {rep + 1} {key:>9} {w.name:>10}: {r['seconds']:8.2f} s  {r['hwm_mib']:7.0f} MiB"
                          f"  ({r['calls']} calls)", flush=True)
    finally:
        for w in workers:
            w.close()

    f_call = flops["export_graph"]
    print(f"\n{which}: {f_call / 1e9:.1f} GFLOP per batch-1 call at {args.length} (export graph; diffusers eager "
          f"with dense resamplers: {flops['diffusers_eager'] / 1e9:.1f})")
    hdr = f"{'workload':>9} {'contender':>10} {'median s':>9} {'min-max s':>15} {'vs torch':>9} {'ratio spread':>14} " \
          f"{'GFLOP/s':>8} {'RTF':>6} {'peak MiB':>9}"
    print(hdr)
    summary = {}
    for key in workloads:
        ts_torch = [r["seconds"] for r in results["pytorch"][key]]
        for w in workers:
            rs = results[w.name][key]
            secs = [r["seconds"] for r in rs]
            calls = rs[0]["calls"] if rs else 0
            batch = 2 if key == "call2" else 1
            audio_s = rs[0].get("audio_s") if key == "variation" else batch * args.length / 48000
            work = f_call * (batch if key != "variation" else calls)
            ratios = [b / a for a, b in zip(secs, ts_torch)]  # same-rep pairs: PyTorch time / engine time
            m = med(secs)
            lo, hi = spread(secs)
            rlo, rhi = spread(ratios)
            peak = max(r["hwm_mib"] for r in rs) if rs else float("nan")
            is_torch = w.name == "pytorch"
            print(f"{key:>9} {w.name:>10} {m:9.2f} {lo:7.2f}-{hi:<7.2f} "
                  f"{'' if is_torch else f'{med(ratios):8.2f}x':>9} "
                  f"{'' if is_torch else f'{rlo:.2f}-{rhi:.2f}':>14} {work / m / 1e9:8.1f} {audio_s / m:6.3f} "
                  f"{peak:9.0f}")
            summary.setdefault(key, {})[w.name] = {"median_s": m, "min_s": lo, "max_s": hi, "calls": calls,
                                                   "speedup_vs_torch_median": None if is_torch else med(ratios),
                                                   "gflops": work / m / 1e9, "rtf": audio_s / m, "peak_mib": peak}
    if "variation" in workloads and "call1" in workloads:
        nb_calls = 2 * (len(variation_times(100, args.strength)) - 1)
        nb_s = nb_calls * summary["call1"]["pytorch"]["median_s"]
        print(f"notebook default (iPLMS 100 steps, {nb_calls} calls for these 2 windows) on PyTorch, projected from "
              f"its median call: {nb_s:.1f} s")
        for w in workers[:-1]:
            e = summary["variation"][w.name]["median_s"]
            print(f"  {w.name} {args.sampler}-{args.steps} whole variation {e:.1f} s: {nb_s / e:.1f}x sooner end to end")
    return summary


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--models", default="full,small", help="comma list of full, small")
    ap.add_argument("--workloads", default="call1,call2,variation")
    ap.add_argument("--length", type=int, default=65536)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--sampler", default="iplms", choices=["ddim", "iplms", "dpmpp-2m"])
    ap.add_argument("--strength", type=float, default=0.5)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--engine", action="append", metavar="NAME=ARGS",
                    help="an engine contender: name and bench_calls options (repeatable), e.g. "
                         "basic='--opt basic', int8='target/models/default-int8' (another model folder); "
                         "default: engine='' (the engine's defaults)")
    ap.add_argument("--json", default=os.path.join(BENCH, "engine_vs_pytorch.json"))
    ap.add_argument("--torch-device", default="cpu", help="PyTorch's device (cuda on a GPU machine; give the "
                    "engine contenders --provider cuda and a GPU ONNX Runtime through ORT_DYLIB_PATH)")
    ap.add_argument("--torch-fp16", action="store_true", help="PyTorch in fp16 (model.half(); for CUDA, against "
                    "an engine contender with --fp16)")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        return torch_worker(args.worker, args.threads, args.torch_device, args.torch_fp16)
    engines = [tuple(e.split("=", 1)) if "=" in e else (e, "") for e in (args.engine or [])]
    if not engines:
        engines = [("engine", "")]
    args.workloads = args.workloads.split(",")
    build_engine()
    out = {"args": vars(args), "machine": {"cpus": os.cpu_count(), "uname": " ".join(os.uname())}}
    for which in args.models.split(","):
        out[which] = run_model(which, args, engines)
    os.makedirs(os.path.dirname(args.json), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump(out, f, indent=2)
    print(f"\nwritten {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
