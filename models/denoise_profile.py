#!/usr/bin/env python3
"""How much noise one model call removes, per noise level and band (a diagnostic, not a test).

A variation at strength s samples the crash schedule below s, so most of its model calls are at small
t (at 0.2 with 20 steps: 0.18, 0.13, 0.09, 0.06, 0.035, 0.016, 0.004). Whatever noise the calls leave
in the source's quiet bands is the hiss a user hears (--chain: which calls leave it). For each t this
noises held-out clips, takes the model's one-shot clean estimate x0 = alpha * x_t - sigma * v and prints,
per band, the noise in x_t and the error left in x0 (dB, same arbitrary reference); "removed" is their
difference. An ideal denoiser removes everything where the source is silent; the first built-in model
removed 6 dB at t = 0.004.
"gain" is the scalar that fits the model's 6-20 kHz noise estimate (x_t - x0) best to the true noise,
and "if" what that best gain would remove: a gain near 1 with "if" no better than "removed" says the
model knows the noise level (its sense of t is right) and errs in telling noise from signal.
"quiet" is the same as the bands, over each clip's 1/3-octave bands where the source is >= 60 dB below
its loudest band (evaluate.py's "hiss" bands: the highs of piano and bass, the lows of the guitar).

--chain S follows a whole variation at strength S instead (DDIM, 20 steps, the plugin's schedule): the
quiet bands' hiss in each call's clean estimate, dB over the source there (evaluate.py's measure), and,
for comparison, what one call at the last t leaves when given the source noised exactly. The sixth version
at 0.2: +27.6 dB after the chain against +14.7 dB from the one call, so most of the hiss is not the last
call's leak: an early call's error, once the noise level falls below it, is kept as if it were signal
(train.py --excess teaches the model to remove it). More steps do not help (--steps: +27.3, +27.6, +29.0
and +30.8 dB after 10, 20, 50 and 100): the first estimate's hiss is kept whatever follows it.

  target/venv-models/bin/python models/denoise_profile.py models/default/model.onnx target/run/unet
"""
from __future__ import annotations

import argparse
import os

import numpy as np
import soundfile as sf

from dd_sampling import alpha_sigma, ddim_variation, variation_timesteps
from evaluate import third_octave_bands

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TIMES = (0.004, 0.016, 0.035, 0.09, 0.18, 0.4)
BANDS = (("<2k", 20, 2000), ("2-6k", 2000, 6000), ("6-20k", 6000, 20000))


def load(path):
    """A v-predicting call f(x [b, 2, n] float32, t float) from an ONNX file or a diffusers folder."""
    if path.endswith(".onnx"):
        import onnxruntime as ort

        so = ort.SessionOptions()
        so.intra_op_num_threads = 1
        s = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
        return lambda x, t: s.run(None, {"audio": x, "t": np.array([t] * x.shape[0], np.float32)})[0]
    import torch
    from diffusers import UNet1DModel

    torch.set_num_threads(1)
    unet = UNet1DModel.from_pretrained(path).float().eval()

    def call(x, t):
        with torch.no_grad():
            return unet(torch.from_numpy(x), torch.full((x.shape[0],), t)).sample.numpy()

    return call


def band(x, lo, hi):
    """The spectrum of x between lo and hi Hz."""
    f = np.fft.rfftfreq(x.shape[-1], 1 / 48000)
    return np.fft.rfft(x, axis=-1)[..., (f >= lo) & (f < hi)]


FREQS = np.fft.rfftfreq(65536, 1 / 48000)
HANN = np.hanning(65536).astype(np.float32)  # a bass's leakage would otherwise fill its quiet highs
HANN_POWER = float(np.mean(HANN.astype(np.float64) ** 2))  # what the window takes off a power: about 3/8


def quiet_bins(x):
    """The bins of x's 1/3-octave bands that are >= 60 dB below its loudest (evaluate.py's hiss bands)."""
    power = np.sum(np.abs(np.fft.rfft(x * HANN, axis=-1)) ** 2, axis=(0, 1))
    bands, _ = third_octave_bands(FREQS)
    levels = np.array([power[b].sum() for b in bands])
    quiet = np.zeros(len(FREQS), bool)
    for b, level in zip(bands, levels):
        if level <= levels.max() * 1e-6:
            quiet |= b
    return quiet


def quiet_power(x, quiet):
    """The mean power of x [b, 2, 65536] in the bins `quiet` marks, on band_power's scale (the window's
    mean square divided out); 0 where it marks none."""
    if not quiet.any():
        return 0.0
    return float(np.mean(np.abs(np.fft.rfft(x * HANN, axis=-1)[..., quiet]) ** 2) / HANN_POWER)


def band_power(x, lo, hi):
    return float(np.mean(np.abs(band(x, lo, hi)) ** 2))


def one_call(f, x, t, rng):
    """The source x noised to t with rng's noise, and the model's one-shot clean estimate from it."""
    alpha, sigma = alpha_sigma(t)
    xt = (alpha * x + sigma * rng.standard_normal(x.shape).astype(np.float32)).astype(np.float32)
    return xt, alpha * xt - sigma * f(xt, float(t))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", nargs="+", help="model.onnx files or diffusers UNet folders")
    ap.add_argument("--clips", default=os.path.join(ROOT, "target", "corpus", "eval"))
    ap.add_argument("--names", nargs="+", default=["piano", "guitar-chords", "violin", "bass"])
    ap.add_argument("--chain", type=float, metavar="S", help="follow a whole variation at strength S")
    ap.add_argument("--steps", type=int, default=20, help="--chain: the render's steps (the plugin's default: 20)")
    a = ap.parse_args()
    clips = []
    for n in a.names:
        x, _ = sf.read(os.path.join(a.clips, n + ".wav"), dtype="float32", always_2d=True)
        clips.append(x.T[None, :, :65536])
    quiet = [quiet_bins(x) for x in clips]
    if a.chain:
        return chain(a.models, a.chain, clips, quiet, a.steps)
    for path in a.models:
        f = load(path)
        print(f"\n{path}\n     t  " + "".join(f"| {b:>5s}: noise  left removed " for b, _, _ in BANDS)
                + "|  gain     if | quiet: noise  left removed")
        for t in TIMES:
            rng = np.random.default_rng(0)  # the same noise for every model
            acc = np.zeros((len(BANDS), 2))
            fit = np.zeros(3)  # <estimate, noise>, |estimate|^2, |noise|^2 in 6-20 kHz
            hush = np.zeros(2)  # noise and error in the quiet bands
            for x, q in zip(clips, quiet):
                xt, x0 = one_call(f, x, t, rng)
                for i, (_, lo, hi) in enumerate(BANDS):
                    acc[i] += band_power(xt - x, lo, hi), band_power(x0 - x, lo, hi)
                est, noise = band(xt - x0, 6000, 20000), band(xt - x, 6000, 20000)
                fit += np.real(np.vdot(est, noise)), np.vdot(est, est).real, np.vdot(noise, noise).real
                hush += [quiet_power(d, q) for d in (xt - x, x0 - x)]
            db = 10 * np.log10(acc + 1e-30)
            gain = fit[0] / fit[1]
            best = 10 * np.log10(fit[2] / (fit[2] - fit[0] ** 2 / fit[1]))  # removal at the best gain
            qn, qe = 10 * np.log10(hush + 1e-30)
            print(f"{t:6.3f}  " + "".join(f"|     {n:+6.1f} {e:+6.1f} {n - e:+6.1f}  " for n, e in db)
                  + f"| {gain:5.3f} {best:+6.1f} |        {qn:+6.1f} {qe:+6.1f} {qn - qe:+6.1f}", flush=True)


def chain(models, strength, clips, quiet, steps):
    """--chain: the quiet bands' hiss of each call's clean estimate along a variation, mean over clips."""
    ts = variation_timesteps(strength, steps)[:-1]
    picked = [(x, q) for x, q in zip(clips, quiet) if q.any()]
    print(f"variation at {strength}, DDIM {steps} steps: hiss (dB) of each call's clean estimate, quiet bands")
    print("model".ljust(28) + "".join(f"{t:7.3f}" for t in ts) + "   one call at the last t")
    for path in models:
        f = load(path)
        call = lambda xt, t: f(xt, float(t[0]))  # noqa: E731 (ddim_variation passes t per batch item)
        rng = np.random.default_rng(0)  # the same noise for every model
        rows = []
        for x, q in picked:
            err = []

            def seen(t, pred, x=x, q=q, err=err):
                err.append(quiet_power(pred - x, q))

            noise = rng.standard_normal(x.shape).astype(np.float32)
            ddim_variation(call, x, noise, strength, steps, on_step=seen)
            err.append(quiet_power(one_call(f, x, ts[-1], rng)[1] - x, q))
            rows.append(10 * np.log10(np.array(err) / quiet_power(x, q)))
        row = np.mean(rows, axis=0)
        print(os.path.basename(path.rstrip("/"))[-27:].ljust(28) + "".join(f"{h:+7.1f}" for h in row[:-1])
              + f"   {row[-1]:+7.1f}", flush=True)


if __name__ == "__main__":
    main()
