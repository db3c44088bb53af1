#!/usr/bin/env python3
"""Train Redance's small default model: a shrunken Dance Diffusion UNet1DModel on synthesised audio.

Objective (exactly Dance Diffusion / v-diffusion):
  t ~ U(0, 1), alpha = cos(t*pi/2), sigma = sin(t*pi/2)
  x_t = alpha * x0 + sigma * eps,  v = alpha * eps - sigma * x0,  loss = MSE(model(x_t, t), v)
The network's time input is the continuous t in [0, 1] (as in the original and in diffusers'
DanceDiffusionPipeline).

Typical use (2 CPU cores, ~30 minutes):
  target/venv-models/bin/python models/train.py --minutes 28 --out target/redance-small \
      --export models/default
Checkpoints (EMA weights, diffusers format) go to OUT/unet; metrics to OUT/metrics.json.
"""
from __future__ import annotations

import argparse
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

SMALL_BLOCK_OUT_CHANNELS = (16, 32, 32, 48, 48, 48, 64, 64, 64)
SMALL_N_ATTN = 2
WINDOW = 65536
SR = 48000
DESCRIPTION = ("Redance default: a small (~2 M parameter) Dance Diffusion UNet1DModel "
               "(9 levels, widths 16-64, attention in the 3 deepest levels) trained from scratch for ~30 CPU "
               "minutes on synthesised tones, chords, drum hits and noise textures at 48 kHz; v-objective, "
               "continuous t in [0, 1]. A demo/test model, not a musical one.")


def small_config():
    return dd_onnx.dance_config(SMALL_BLOCK_OUT_CHANNELS, SMALL_N_ATTN, WINDOW, SR)


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


def v_loss(model, x0, t=None):
    b = x0.shape[0]
    if t is None:
        t = torch.rand(b)
    alpha = torch.cos(t * math.pi / 2)[:, None, None]
    sigma = torch.sin(t * math.pi / 2)[:, None, None]
    eps = torch.randn_like(x0)
    xt = alpha * x0 + sigma * eps
    v = alpha * eps - sigma * x0
    return torch.nn.functional.mse_loss(model(xt, t).sample, v)


@torch.no_grad()
def evaluate(unet, n_val=6, length=WINDOW, steps=24, seed=1234, log=print):
    """Denoising + variation metrics on held-out synthesised audio (different seed) and the example clip."""
    unet = unet.eval()
    val = synth.make_dataset(n_val, length, seed=seed + 10_000)
    clip = synth.render_clip()[:, :length][None]
    src = np.concatenate([val, clip]).astype(np.float32)

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
        metrics["eval"] = evaluate(ema, steps=a.eval_steps)
    if a.export:
        res = dd_onnx.export_onnx(ema, a.export, name="redance-small", description=DESCRIPTION, sample_rate=SR,
                                  window_length=WINDOW)
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
    evaluate_export_and_record(ema, a, metrics, mpath)
    print(json.dumps(metrics, indent=2))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(HERE, "..", "target", "redance-small"))
    ap.add_argument("--minutes", type=float, default=28.0, help="wall-clock training budget")
    ap.add_argument("--max-steps", type=int, default=1_000_000)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--chunk", type=int, default=16384, help="training crop length (multiple of 512)")
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--ema", type=float, default=0.998)
    ap.add_argument("--data-count", type=int, default=1024)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--resume", action="store_true", help="continue from OUT/train_state.pt")
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
    data = load_or_make_data(os.path.join(a.out, f"data_{a.data_count}_{a.seed}.npy"), a.data_count, WINDOW, a.seed)

    unet = dd_onnx.build_unet(small_config())
    ema = dd_onnx.build_unet(small_config())
    ema.load_state_dict(unet.state_dict())
    ema.requires_grad_(False)
    n_params = sum(p.numel() for p in unet.parameters())
    print(f"params: {n_params} ({n_params * 4 / 2**20:.2f} MiB fp32)", flush=True)
    opt = torch.optim.Adam([p for p in unet.parameters() if p.requires_grad], lr=a.lr)
    step, trained_s = 0, 0.0
    state_path = os.path.join(a.out, "train_state.pt")
    if a.resume and os.path.exists(state_path):
        st = torch.load(state_path, weights_only=False)
        unet.load_state_dict(st["model"]); ema.load_state_dict(st["ema"]); opt.load_state_dict(st["opt"])
        step, trained_s = st["step"], st["trained_s"]
        rng = np.random.default_rng([a.seed, step])
        torch.manual_seed(a.seed + step)
        print(f"resumed at step {step}", flush=True)

    budget = a.minutes * 60.0
    warmup = 100
    t_start = time.time()
    losses = []
    unet.train()

    def save():
        torch.save({"model": unet.state_dict(), "ema": ema.state_dict(), "opt": opt.state_dict(), "step": step,
                    "trained_s": trained_s + time.time() - t_start}, state_path)
        ema.save_pretrained(os.path.join(a.out, "unet"))

    while step < a.max_steps and time.time() - t_start < budget:
        frac = min(1.0, (time.time() - t_start) / budget)
        lr = a.lr * min(1.0, (step + 1) / warmup) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))
        for g in opt.param_groups:
            g["lr"] = lr
        x0 = sample_batch(rng, data, a.batch, a.chunk)
        loss = v_loss(unet, x0)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(unet.parameters(), 1.0)
        opt.step()
        with torch.no_grad():
            d = min(a.ema, (1 + step) / (10 + step))
            for pe, pm in zip(ema.parameters(), unet.parameters()):
                pe.mul_(d).add_(pm.detach(), alpha=1 - d)
        losses.append(loss.item())
        step += 1
        if step % 50 == 0:
            el = time.time() - t_start
            print(f"step {step:5d}  loss {np.mean(losses[-50:]):.4f}  lr {lr:.2e}  {el / 60:.1f} min "
                  f"({el / step if not a.resume else 0:.2f} s/step)", flush=True)
        if step % 500 == 0:
            save()
    total_s = trained_s + time.time() - t_start
    save()
    print(f"trained {step} steps in {total_s / 60:.1f} min", flush=True)

    metrics = {"params": n_params, "steps": step, "train_minutes": round(total_s / 60, 1), "batch": a.batch,
               "chunk": a.chunk, "lr": a.lr, "ema": a.ema, "final_loss_mean_last_200": float(np.mean(losses[-200:]))
               if losses else None, "torch": torch.__version__}
    evaluate_export_and_record(ema, a, metrics, os.path.join(a.out, "metrics.json"))
    print(json.dumps(metrics, indent=2))


if __name__ == "__main__":
    main()
