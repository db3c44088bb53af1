#!/usr/bin/env python3
"""Train Redance's default model: a shrunken Dance Diffusion UNet1DModel on recorded instruments.

Objective (exactly Dance Diffusion / v-diffusion):
  t ~ U(0, 1), alpha = cos(t*pi/2), sigma = sin(t*pi/2)
  x_t = alpha * x0 + sigma * eps,  v = alpha * eps - sigma * x0,  loss = MSE(model(x_t, t), v)
The network's time input is the continuous t in [0, 1] (as in the original and in diffusers'
DanceDiffusionPipeline).

Data: the recorded-instrument corpus models/corpus.py renders (--corpus DIR: OUT/train/*.flac), or
the old synthesised tones (--data synth). Noise levels: --t-dist plugin draws most t where the plugin's
variations live (strength 0.1-0.6), the rest uniform; --t-dist calls draws them where the sampler's model
calls land (the crash schedule below the strength: mostly small t). --hf-weight adds the same MSE on a pre-emphasised
(first difference) error, so the loss hears the highs that plain waveform MSE drowns under the bass.
--excess noises part of the batch more than its t says and still asks for all of it to be removed, as a
render's later calls must remove what the earlier ones left (models/README.md: tried, not yet shipped).
--unroll gives part of the batch the input a render gives the model: noised exactly one to --unroll-calls
sampler steps earlier, then brought down to t by the model's own calls, and asks for the source.

Training resumes by itself: OUT/train_state.pt is written every --save-minutes and at the end, and the
next run continues from it (same config, step count, EMA, optimiser), across sessions and machines.

  target/venv-models/bin/python models/corpus.py --out target/corpus --minutes 90
  target/venv-models/bin/python models/train.py --corpus target/corpus --out target/redance-base --minutes 60
  target/venv-models/bin/python models/train.py --skip-train --out target/redance-base --export models/default
Checkpoints (EMA weights, diffusers format) go to OUT/unet; metrics to OUT/metrics.json.
"""
from __future__ import annotations

import argparse
import glob
import json
import math
import os
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import dd_onnx  # noqa: E402
import dd_sampling  # noqa: E402
import synth  # noqa: E402

WINDOW = 65536
SR = 48000
# Widths per level, full resolution first. "base" doubles the full-resolution width (where the hiss of
# "small" came from) and widens the deep levels; "small" is the first default (2 M parameters).
CONFIGS = {
    "small": ((16, 32, 32, 48, 48, 48, 64, 64, 64), 2),
    "base": ((32, 32, 48, 48, 64, 64, 96, 96, 128), 2),
    # "small" with its three finest levels (full, 1/2, 1/4 rate) doubled, grown from a trained "small"
    # (models/widen.py); the fourth keeps its width so every residual skip stays where "small" has one
    "wide": ((32, 64, 64, 48, 48, 48, 64, 64, 64), 2),
}
NAMES = {"small": "redance-small", "base": "redance-base", "wide": "redance-wide"}


def model_config(name="small"):
    widths, n_attn = CONFIGS[name]
    return dd_onnx.dance_config(widths, n_attn, WINDOW, SR)


def description(name, params, minutes, steps, data, init=None):
    start = f"fine-tuned from {init}" if init else "trained from scratch"
    return (f"Redance default {NAMES[name]}: a Dance Diffusion UNet1DModel ({params / 1e6:.1f} M parameters, 9 levels, "
            f"widths {CONFIGS[name][0][0]}-{CONFIGS[name][0][-1]}, attention in the 3 deepest levels) {start} for "
            f"{steps} steps ({minutes:.0f} min) on {data} at 48 kHz; v-objective, continuous t in [0, 1].")


class Corpus:
    """The corpus's training items in memory (16-bit), drawn by length."""

    def __init__(self, root):
        import soundfile as sf

        files = sorted(glob.glob(os.path.join(root, "train", "*.flac")))
        if not files:
            raise SystemExit(f"train: no corpus in {root}/train: run models/corpus.py --out {root}")
        self.items = [sf.read(f, dtype="int16", always_2d=True)[0].T.copy() for f in files]
        self.lengths = np.array([x.shape[1] for x in self.items], np.float64)
        print(f"corpus: {len(files)} items, {self.lengths.sum() / SR / 60:.1f} min", flush=True)

    def crops(self, rng, batch, chunk):
        idx = rng.choice(len(self.items), size=batch, p=self.lengths / self.lengths.sum())
        out = []
        for i in idx:
            x = self.items[i]
            o = int(rng.integers(0, x.shape[1] - chunk + 1))
            out.append(x[:, o:o + chunk].astype(np.float32) / 32768.0)
        return np.stack(out)


def eval_sources(corpus_dir, length=WINDOW):
    """Held-out evaluation audio: the corpus's eval clips (recorded instruments), else synthesised."""
    import soundfile as sf

    files = sorted(glob.glob(os.path.join(corpus_dir or "", "eval", "*.wav")))
    if files:
        return np.stack([sf.read(f, dtype="float32", always_2d=True)[0].T[:, :length] for f in files])
    return np.concatenate([synth.make_dataset(6, length, seed=11234), synth.render_clip()[:, :length][None]])


def load_or_make_data(path, count, length, seed):
    if path and os.path.exists(path):
        d = np.load(path, mmap_mode=None)
        if d.shape == (count, 2, length):
            return d
    t0 = time.time()
    d = synth.make_dataset(count, length, seed)
    print(f"synthesised {count} x {length} frames in {time.time() - t0:.0f}s", flush=True)
    if path:
        np.save(path, d)
    return d


def sample_batch(rng, data, batch, chunk):
    if isinstance(data, Corpus):
        x = data.crops(rng, batch, chunk)
    else:
        idx = rng.integers(0, data.shape[0], size=batch)
        off = rng.integers(0, data.shape[2] - chunk + 1, size=batch)
        x = np.stack([data[i, :, o:o + chunk] for i, o in zip(idx, off)])
    # augmentation: gain, polarity, channel swap
    gain = rng.uniform(0.5, 1.25, size=(batch, 1, 1)) * rng.choice([-1.0, 1.0], size=(batch, 1, 1))
    x = x * gain
    swap = rng.random(batch) < 0.5
    x[swap] = x[swap][:, ::-1]
    peak = np.abs(x).max(axis=(1, 2), keepdims=True)
    x = x / np.maximum(peak, 1.0)
    return torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))


def crash(u):
    """The sampler's crash schedule (engine/src/schedule.rs): where a uniform step index lands in t."""
    s = torch.sin(u * math.pi / 2) ** 2
    return torch.atan2(s, torch.sqrt((1 - s * s).clamp(min=0))) * 2 / math.pi


def alpha_sigma(t):
    """alpha(t) and sigma(t) of a batch's noise levels, shaped to scale [b, 2, L] audio."""
    return torch.cos(t * math.pi / 2)[:, None, None], torch.sin(t * math.pi / 2)[:, None, None]


def crash_index(t):
    """The inverse of `crash`: where t sits on the uniform step index."""
    return torch.asin(torch.sin(t * math.pi / 2).clamp(0, 1).sqrt()) * 2 / math.pi


def draw_t(b, dist="uniform"):
    """Noise levels: uniform; "plugin": 70 % in [0, 0.65] (variations), 30 % uniform (generation);
    "calls": where the plugin's model calls land. A variation samples the crash schedule below its
    strength, so most calls are at small t (at 0.2, six of seven below 0.14), where a one-shot
    denoise of the shipped model removed only 6-11 dB of the noise: 75 % on the crash schedule below
    strength 0.8, 25 % uniform (generation)."""
    t = torch.rand(b)
    if dist == "plugin":
        t = torch.where(torch.rand(b) < 0.7, t * 0.65, t)
    elif dist == "calls":
        t = torch.where(torch.rand(b) < 0.75, crash(torch.rand(b) * 0.8), t)
    return t


def learning_rate(step, lr, warmup, decay, lr_end):
    """Warm-up, then constant (a run can stop and resume anywhere); --decay cools it down at the end,
    given in absolute steps so a resumed cool-down continues where it stopped."""
    lr = lr * min(1.0, (step + 1) / warmup)
    if decay:
        start, end = decay
        f = min(1.0, max(0.0, (step - start) / max(1, end - start)))
        lr = lr + (lr_end - lr) * f
    return lr


def cool_down(lr, elapsed, budget, minutes, lr_end):
    """--decay-minutes: the same linear cool-down as --decay, placed by wall clock at the end of the run."""
    f = min(1.0, max(0.0, (elapsed - (budget - minutes * 60)) / max(1.0, minutes * 60)))
    return lr + (lr_end - lr) * f


class Loader:
    """Batches made by worker threads while the GPU trains (numpy's copies release the GIL); each thread
    draws from its own generator, seeded from the run's seed and step."""

    def __init__(self, data, batch, chunk, seed, step, threads):
        import queue
        import threading

        self.q = queue.Queue(maxsize=2 * threads)
        self.stop = False

        def work(i):
            rng = np.random.default_rng([seed, step, i])
            while not self.stop:
                x = sample_batch(rng, data, batch, chunk)
                self.q.put(x.pin_memory() if torch.cuda.is_available() else x)

        for i in range(threads):
            threading.Thread(target=work, args=(i,), daemon=True).start()

    def next(self):
        return self.q.get()


@torch.no_grad()
def sampler_input(model, x0, t, eps, calls, grid):
    """x_t as a render makes it: sample i is noised exactly `calls[i]` steps of `grid` (on the crash
    schedule's index) above t, then taken down to t by that many DDIM calls of the model (the first steps
    of the engine's iPLMS are these). calls[i] = 0: noised exactly at t."""
    u = crash_index(t)

    def level(j):  # the noise level j steps above t (t itself at 0, exactly)
        return torch.where(j == 0, t, crash((u + j * grid).clamp(max=1.0)))

    a, s = alpha_sigma(level(calls))
    x = a * x0 + s * eps
    for j in range(int(calls.max()), 0, -1):
        on = calls >= j
        t_here, t_next = level(torch.full_like(t, j))[on], level(torch.full_like(t, j - 1))[on]
        (a, s), (a2, s2) = alpha_sigma(t_here), alpha_sigma(t_next)
        v = model(x[on], t_here).sample
        x[on] = a2 * (a * x[on] - s * v) + s2 * (s * x[on] + a * v)
    return x


def v_loss(model, x0, t=None, hf_weight=0.0, excess=0.0, excess_below=1.0, unroll=0.0, unroll_calls=3,
           grid=0.05):
    """The v-objective's MSE. `excess` G: half the batch (of t below `excess_below`) gets up to (1 + G) times
    the noise its t says, and the target still removes all of it. A sampler's input carries earlier calls'
    errors on top of the scheduled noise, and a model that keeps that excess as signal keeps it as hiss
    (denoise_profile.py --chain). `unroll` P: that fraction of the batch (of t >= 0.003) gets the model's own
    input instead (`sampler_input`: its earlier calls' errors, not white excess), and the target is the
    source; `grid` is one step of a 20-step render."""
    b = x0.shape[0]
    if t is None:
        t = torch.rand(b)
    alpha, sigma = alpha_sigma(t)
    eps = torch.randn_like(x0)
    if excess:
        picked = (torch.rand(b, 1, 1, device=x0.device) < 0.5) & (t[:, None, None] < excess_below)
        eps = eps * (1 + excess * torch.rand(b, 1, 1, device=x0.device) * picked)
    xt = alpha * x0 + sigma * eps
    v = alpha * eps - sigma * x0  # x0 = alpha * xt - sigma * v, whatever the noise's size
    if unroll:
        picked = (torch.rand(b, device=x0.device) < unroll) & (t >= 0.003)
        calls = torch.randint(1, unroll_calls + 1, (b,), device=x0.device) * picked
        xt = sampler_input(model, x0, t, eps, calls, grid)
        # the v whose x0 is the source, whatever xt carries (divided only where sigma is not tiny)
        v = torch.where(picked[:, None, None], (alpha * xt - x0) / sigma, v)
    err = model(xt, t).sample - v
    loss = err.pow(2).mean()
    if hf_weight:
        # first difference of the error: weights it by 2|sin(pi f / SR)|, +6 dB per octave up to Nyquist
        loss = loss + hf_weight * (err[..., 1:] - err[..., :-1]).pow(2).mean()
    return loss


@torch.no_grad()
def evaluate(unet, corpus_dir=None, length=WINDOW, steps=24, seed=1234, log=print):
    """Denoising + variation metrics on held-out audio (eval_sources); the last item is reported apart."""
    unet = unet.eval()
    src = eval_sources(corpus_dir, length).astype(np.float32)

    def model_fn(x, t):
        return unet(torch.from_numpy(x), torch.from_numpy(t)).sample.numpy()

    out = {"eval_length": length, "eval_items": int(src.shape[0]), "steps": steps}
    # one-step denoising: SNR of the model's x0 prediction vs the SNR of the (rescaled) noisy input
    rng = np.random.default_rng(seed)
    den = []
    for t in (0.1, 0.3, 0.5, 0.7):
        noise = rng.standard_normal(src.shape).astype(np.float32)
        a, s = dd_sampling.alpha_sigma(t)
        xt = (a * src + s * noise).astype(np.float32)
        v = model_fn(xt, np.full((src.shape[0],), t, np.float32))
        pred = a * xt - s * v
        snr_in = np.mean([dd_sampling.snr_db(src[i], xt[i] / a) for i in range(len(src))])
        # best achievable by scaling x_t alone (Wiener-like shrink of the noisy input) for reference
        snr_pred = np.mean([dd_sampling.snr_db(src[i], pred[i]) for i in range(len(src))])
        den.append({"t": t, "snr_noisy_in_db": round(float(snr_in), 2), "snr_pred_x0_db": round(float(snr_pred), 2)})
        log(f"denoise t={t}: noisy input {snr_in:6.2f} dB -> predicted x0 {snr_pred:6.2f} dB")
    out["denoise"] = den
    var = {}
    for strength in (0.2, 0.5, 0.9):
        noise = np.random.default_rng(seed + 1).standard_normal(src.shape).astype(np.float32)
        y = dd_sampling.ddim_variation(model_fn, src, noise, strength, steps)
        snrs = [dd_sampling.snr_db(src[i], y[i]) for i in range(len(src))]
        var[str(strength)] = {"snr_db_mean": round(float(np.mean(snrs)), 2),
                              "snr_db_clip": round(float(snrs[-1]), 2),
                              "rms_out_over_in": round(float(np.sqrt(np.mean(y ** 2) / np.mean(src ** 2))), 3)}
        log(f"variation strength {strength}: SNR vs source {np.mean(snrs):6.2f} dB (clip {snrs[-1]:6.2f} dB), "
            f"rms ratio {var[str(strength)]['rms_out_over_in']}")
    out["variation"] = var
    return out


def evaluate_export_and_record(ema, a, metrics, mpath):
    """The common end of training and of --skip-train: evaluate, export, write metrics.json."""
    if not a.no_eval:
        metrics["eval"] = evaluate(ema, corpus_dir=a.corpus, steps=a.eval_steps)
    if a.export:
        n_params = sum(p.numel() for p in ema.parameters())
        data = "recorded instruments (models/corpus.py)" if metrics.get("data") == "corpus" or a.corpus else "synthesised audio"
        desc = description(metrics.get("config", a.config), n_params, metrics.get("train_minutes", 0),
                           metrics.get("steps", 0), data, a.base_name)
        res = dd_onnx.export_onnx(ema, a.export, name=NAMES[metrics.get("config", a.config)], description=desc,
                                  sample_rate=SR, window_length=WINDOW)
        metrics["export"] = res.get("verification")
        metrics["onnx_bytes"] = os.path.getsize(os.path.join(a.export, "model.onnx"))
    with open(mpath, "w") as f:
        json.dump(metrics, f, indent=2)


def eval_export_only(a):
    from diffusers import UNet1DModel

    torch.set_num_threads(a.threads)
    ema = UNet1DModel.from_pretrained(os.path.join(a.out, "unet")).float().eval()
    mpath = os.path.join(a.out, "metrics.json")
    metrics = json.load(open(mpath)) if os.path.exists(mpath) else {}
    state_path = os.path.join(a.out, "train_state.pt")
    if os.path.exists(state_path):  # the latest state says how far training has come
        st = torch.load(state_path, weights_only=True)
        metrics.update(steps=st["step"], train_minutes=round(st["trained_s"] / 60, 1), config=st.get("config", a.config))
    evaluate_export_and_record(ema, a, metrics, mpath)
    print(json.dumps(metrics, indent=2))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(HERE, "..", "target", "redance-base"))
    ap.add_argument("--config", choices=sorted(CONFIGS), default="base")
    ap.add_argument("--corpus", default=None, help="models/corpus.py output (else synthesised tones)")
    ap.add_argument("--t-dist", choices=["uniform", "plugin", "calls"], default="plugin")
    ap.add_argument("--hf-weight", type=float, default=1.0)
    ap.add_argument("--excess", type=float, default=0.0, metavar="G",
                    help="half the batch noised up to (1 + G) times its t's level, all of it removed")
    ap.add_argument("--excess-below", type=float, default=1.0, metavar="T", help="--excess only where t < T")
    ap.add_argument("--unroll", type=float, default=0.0, metavar="P",
                    help="that fraction of the batch gets its input from the model's own sampler calls")
    ap.add_argument("--unroll-calls", type=int, default=3, metavar="K", help="--unroll: 1 to K calls")
    ap.add_argument("--save-minutes", type=float, default=3.0)
    ap.add_argument("--fresh", action="store_true", help="ignore OUT/train_state.pt and start again")
    ap.add_argument("--init-onnx", default=None,
                    help="start from the weights of an exported model (e.g. the previous default), not at random")
    ap.add_argument("--init-unet", default=None, help="start from a diffusers UNet1DModel folder (models/widen.py)")
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--device", default="cpu", help="cpu or cuda (models/gpu/train.sh)")
    ap.add_argument("--base-name", default=None, help="for the description: the model training started from")
    ap.add_argument("--minutes", type=float, default=28.0, help="wall-clock budget of this run")
    ap.add_argument("--max-steps", type=int, default=1_000_000)
    # Whole windows: the shipped model was last trained on them (the GPU kit), and fine-tuning it on shorter
    # crops walks it away from there (models/README.md); 2 x 65536 moves as many frames as 8 x 16384.
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--chunk", type=int, default=WINDOW, help="training crop length (multiple of 512)")
    ap.add_argument("--lr", type=float, default=3e-4, help="after warm-up; constant, so runs can resume")
    ap.add_argument("--decay", type=int, nargs=2, metavar=("FROM", "TO"), default=None,
                    help="cool down: the learning rate falls linearly from --lr at step FROM to --lr-end at step TO")
    ap.add_argument("--lr-end", type=float, default=1e-6, help="the learning rate at the end of --decay and after")
    ap.add_argument("--decay-minutes", type=float, default=0.0,
                    help="cool down over the last M minutes of --minutes instead (a GPU lease: steps unknown ahead)")
    ap.add_argument("--compile", action="store_true",
                    help="torch.compile the network: 1.44x a step on an H200 after ~2 min of compiling (gpu/probe.py)")
    ap.add_argument("--loaders", type=int, default=0,
                    help="threads preparing batches ahead of the model (default: 3 on a GPU, none on the CPU)")
    ap.add_argument("--ema", type=float, default=0.999)
    ap.add_argument("--data-count", type=int, default=1024)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--eval-steps", type=int, default=24)
    ap.add_argument("--no-eval", action="store_true")
    ap.add_argument("--export", default=None, help="also export ONNX + manifest to this directory")
    ap.add_argument("--skip-train", action="store_true",
                    help="load the EMA weights from OUT/unet and only evaluate / export")
    a = ap.parse_args()
    if a.skip_train:
        return eval_export_only(a)

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    os.makedirs(a.out, exist_ok=True)
    state_path = os.path.join(a.out, "train_state.pt")
    st = None
    if os.path.exists(state_path) and not a.fresh:
        # our own file, still loaded without running code: tensors and plain types only
        st = torch.load(state_path, weights_only=True, map_location="cpu")
        a.config = st.get("config", a.config)
    if a.corpus:
        data = Corpus(a.corpus)
    else:
        data = load_or_make_data(os.path.join(a.out, f"data_{a.data_count}_{a.seed}.npy"), a.data_count, WINDOW,
                                 a.seed)

    unet = dd_onnx.build_unet(model_config(a.config))
    ema = dd_onnx.build_unet(model_config(a.config))
    if st is None and a.init_onnx:
        import onnx_weights

        start, err = onnx_weights.unet_from_onnx(a.init_onnx, model_config(a.config))
        unet.load_state_dict(start.state_dict())
        print(f"initialised from {a.init_onnx} (max |torch - onnx| {err:.1e})", flush=True)
    elif st is None and a.init_unet:
        from diffusers import UNet1DModel

        unet.load_state_dict(UNet1DModel.from_pretrained(a.init_unet).float().state_dict())
        print(f"initialised from {a.init_unet}", flush=True)
    ema.load_state_dict(unet.state_dict())
    ema.requires_grad_(False)
    unet.to(a.device)
    ema.to(a.device)
    if a.device.startswith("cuda"):
        torch.backends.cudnn.benchmark = True  # fixed shapes: let cuDNN pick its fastest convolutions
    n_params = sum(p.numel() for p in unet.parameters())
    print(f"params: {n_params} ({n_params * 4 / 2**20:.2f} MiB fp32)", flush=True)
    opt = torch.optim.Adam([p for p in unet.parameters() if p.requires_grad], lr=a.lr)
    step, trained_s = 0, 0.0
    if st is not None:
        unet.load_state_dict(st["model"]); ema.load_state_dict(st["ema"]); opt.load_state_dict(st["opt"])
        step, trained_s = st["step"], st["trained_s"]
        rng = np.random.default_rng([a.seed, step])
        torch.manual_seed(a.seed + step)
        print(f"resumed at step {step}", flush=True)

    budget = a.minutes * 60.0
    warmup = a.warmup
    t_start = time.time()
    last_save = t_start
    losses, pending = [], []
    net = torch.compile(unet) if a.compile else unet  # the same parameters; saved through `unet`
    loaders = a.loaders or (0 if a.device == "cpu" else 3)
    loader = Loader(data, a.batch, a.chunk, a.seed, step, loaders) if loaders else None
    unet.train()

    def save():
        # written beside, then renamed: a run killed mid-save keeps the previous state
        torch.save({"model": unet.state_dict(), "ema": ema.state_dict(), "opt": opt.state_dict(), "step": step,
                    "trained_s": trained_s + time.time() - t_start, "config": a.config}, state_path + ".tmp")
        os.replace(state_path + ".tmp", state_path)
        ema.to("cpu").save_pretrained(os.path.join(a.out, "unet"))
        ema.to(a.device)

    while step < a.max_steps and time.time() - t_start < budget:
        lr = learning_rate(step, a.lr, warmup, a.decay, a.lr_end)
        if a.decay_minutes:
            lr = cool_down(lr, time.time() - t_start, budget, a.decay_minutes, a.lr_end)
        for g in opt.param_groups:
            g["lr"] = lr
        x0 = loader.next() if loader else sample_batch(rng, data, a.batch, a.chunk)
        x0 = x0.to(a.device, non_blocking=True)
        loss = v_loss(net, x0, draw_t(a.batch, a.t_dist).to(a.device), a.hf_weight, a.excess, a.excess_below,
                      a.unroll, a.unroll_calls)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(unet.parameters(), 1.0)
        opt.step()
        with torch.no_grad():
            d = min(a.ema, (1 + step) / (10 + step))
            for pe, pm in zip(ema.parameters(), unet.parameters()):
                pe.mul_(d).add_(pm.detach(), alpha=1 - d)
        pending.append(loss.detach())  # read back every 25 steps: a read per step stalls the GPU's queue
        step += 1
        if step % 25 == 0:
            losses += torch.stack(pending).cpu().tolist()
            pending = []
            el = time.time() - t_start
            print(f"step {step:6d}  loss {np.mean(losses[-25:]):.4f}  lr {lr:.2e}  {el / 60:.1f} min "
                  f"({el / len(losses):.3f} s/step)", flush=True)
        if time.time() - last_save > a.save_minutes * 60:
            save()
            last_save = time.time()
    if loader:
        loader.stop = True
    losses += torch.stack(pending).cpu().tolist() if pending else []
    total_s = trained_s + time.time() - t_start
    save()
    print(f"trained {step} steps in {total_s / 60:.1f} min", flush=True)

    metrics = {"params": n_params, "config": a.config, "data": "corpus" if a.corpus else "synth",
               "init": a.init_onnx or a.init_unet,
               "t_dist": a.t_dist, "hf_weight": a.hf_weight, "excess": a.excess, "excess_below": a.excess_below,
               "unroll": a.unroll, "unroll_calls": a.unroll_calls,
               "steps": step, "train_minutes": round(total_s / 60, 1), "batch": a.batch,
               "chunk": a.chunk, "lr": a.lr, "decay": a.decay, "decay_minutes": a.decay_minutes or None,
               "lr_end": a.lr_end if a.decay or a.decay_minutes else None,
               "ema": a.ema, "final_loss_mean_last_200": float(np.mean(losses[-200:])) if losses else None,
               "torch": torch.__version__}
    evaluate_export_and_record(ema.to("cpu"), a, metrics, os.path.join(a.out, "metrics.json"))
    print(json.dumps(metrics, indent=2))


if __name__ == "__main__":
    main()
