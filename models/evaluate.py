#!/usr/bin/env python3
"""How a model sounds on held-out recorded audio, side by side with another (a benchmark, not a test).

Every render goes through the real engine (the `redance` CLI, the plugin's defaults: iPLMS 20 steps),
on the same clips and seeds for every model. Per strength it prints, as the mean over clips and seeds:
  SNR        to the source (dB; higher = closer)
  LMD        log-mel distance to the source (dB; lower = closer)
  hiss       energy the render adds in the 1/3-octave bands where the source is >= 60 dB below its
             loudest band (dB; 0 = none added)
  highs      change of 6-20 kHz energy, on clips whose highs are within 50 dB of their total (dB; 0 = kept)
  |highs|    the same change without its sign (dB; 0 = kept): in the mean of "highs", tonal clips'
             hiss (+) cancels drums' lost cymbals (-), so this is the column that says how far they moved
  flat x     spectral flatness of the render / the source's (1 = the same; noise pushes it up), bins
             floored 80 dB below the source's loudest
  level      render RMS / source RMS (dB)
For generation it compares the spectrum of generated audio with the held-out clips'.

  target/venv-models/bin/python models/evaluate.py --model old=git:HEAD --model new=target/redance-base/onnx
  ... --picture docs/sound.png   # source, each model at 0.2 and 0.5: spectrograms with axes

`git:REV` takes models/default as it was at REV (the previous built-in model, without keeping it in the
tree). Clips: target/corpus/eval (models/corpus.py --eval-only makes them). Needs numpy and soundfile;
matplotlib for --picture.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

import numpy as np
import soundfile as sf

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SR = 48000
STRENGTHS = (0.1, 0.2, 0.4, 0.6)


# --------------------------------------------------------------------------- measurements

def stft_power(x, n_fft=4096, hop=1024):
    """Power spectrogram [bins, frames] of a [2, n] signal, both channels summed."""
    win = np.hanning(n_fft).astype(np.float32)
    n = x.shape[1]
    frames = 1 + max(0, (n - n_fft) // hop)
    idx = np.arange(n_fft)[None, :] + hop * np.arange(frames)[:, None]
    p = 0
    for ch in x:
        p = p + np.abs(np.fft.rfft(ch[idx] * win, axis=1)) ** 2
    return p.T, np.fft.rfftfreq(n_fft, 1 / SR)


def mel_filters(freqs, n_mels=128, fmin=20.0, fmax=20000.0):
    def mel(f):
        return 2595 * np.log10(1 + f / 700)

    edges = 700 * (10 ** (np.linspace(mel(fmin), mel(fmax), n_mels + 2) / 2595) - 1)
    fb = np.zeros((n_mels, len(freqs)))
    for i in range(n_mels):
        lo, c, hi = edges[i:i + 3]
        fb[i] = np.clip(np.minimum((freqs - lo) / (c - lo), (hi - freqs) / (hi - c)), 0, None)
    return fb


def third_octave_bands(freqs, lo=40.0, hi=20000.0):
    centres = 1000 * 2.0 ** (np.arange(-15, 14) / 3)
    centres = centres[(centres >= lo) & (centres <= hi)]
    return [(freqs >= c / 2 ** (1 / 6)) & (freqs < c * 2 ** (1 / 6)) for c in centres], centres


def measure(src, out):
    """Metrics of one render against its source (both [2, n] at 48 kHz)."""
    n = min(src.shape[1], out.shape[1])
    src, out = src[:, :n].astype(np.float64), out[:, :n].astype(np.float64)
    ps, f = stft_power(src)
    po, _ = stft_power(out)
    m = {"snr": 10 * np.log10(np.sum(src ** 2) / max(np.sum((out - src) ** 2), 1e-20))}
    fb = mel_filters(f)
    floor = 1e-10 * max(ps.mean(), 1e-20)
    ms, mo = 10 * np.log10(fb @ ps + floor), 10 * np.log10(fb @ po + floor)
    m["lmd"] = float(np.mean(np.sqrt(np.mean((ms - mo) ** 2, axis=0))))
    ls, lo = ps.mean(axis=1), po.mean(axis=1)
    bands, _ = third_octave_bands(f)
    bs = np.array([ls[b].sum() for b in bands])
    bo = np.array([lo[b].sum() for b in bands])
    quiet = bs <= bs.max() * 1e-6
    m["hiss"] = float(10 * np.log10(bo[quiet].sum() / bs[quiet].sum())) if quiet.any() else None
    hi = (f >= 6000) & (f <= 20000)
    has_highs = ls[hi].sum() >= 1e-5 * ls.sum()
    m["highs"] = float(10 * np.log10(lo[hi].sum() / max(ls[hi].sum(), 1e-30))) if has_highs else None
    m["highs_off"] = abs(m["highs"]) if has_highs else None
    m["flat"] = float(flatness(po, ps.max()) / flatness(ps, ps.max()))
    m["level"] = float(10 * np.log10(np.mean(out ** 2) / max(np.mean(src ** 2), 1e-30)))
    return m


def flatness(p, ref=None, floor_db=-80.0, f_lo_bin=4):
    """Spectral flatness (geometric / arithmetic mean of power), mean over frames. Bins are floored at
    floor_db below ref (default: the loudest bin), so digital silence does not make any noise look infinite."""
    ref = p.max() if ref is None else ref
    p = np.maximum(p[f_lo_bin:], ref * 10 ** (floor_db / 10)) + 1e-30
    return float(np.mean(np.exp(np.mean(np.log(p), axis=0)) / np.mean(p, axis=0)))


def spectrum_stats(x):
    """Statistics compared between generated and real audio."""
    p, f = stft_power(x)
    bands, centres = third_octave_bands(f)
    prof = np.array([p.mean(axis=1)[b].sum() for b in bands]) + 1e-20
    prof_db = 10 * np.log10(prof / prof.sum())
    slope = np.polyfit(np.log2(centres), prof_db, 1)[0]
    hi = (f >= 6000) & (f <= 20000)
    return {"profile_db": prof_db, "tilt_db_per_octave": float(slope), "flatness": flatness(p),
            "highs_db": float(10 * np.log10(p[hi].sum() / p.sum() + 1e-30))}


# --------------------------------------------------------------------------- rendering through the engine

def resolve_model(spec, work):
    """NAME=DIR or NAME=git:REV -> (name, folder)."""
    name, _, where = spec.partition("=")
    if not where:
        name, where = os.path.basename(spec.rstrip("/")), spec
    if where.startswith("git:"):
        rev = where[4:]
        d = os.path.join(work, "models", name)
        os.makedirs(d, exist_ok=True)
        manifest = json.loads(subprocess.check_output(["git", "-C", ROOT, "show", f"{rev}:models/default/manifest.json"]))
        for fn in {"manifest.json", manifest["onnx"]}:
            with open(os.path.join(d, fn), "wb") as fh:
                fh.write(subprocess.check_output(["git", "-C", ROOT, "show", f"{rev}:models/default/{fn}"]))
        manifest.pop("variants", None)  # only the fp32 graph is fetched: the CPU renders fp32
        with open(os.path.join(d, "manifest.json"), "w") as fh:
            json.dump(manifest, fh)
        where = d
    return name, where


def render(redance, model, clip, out, args, threads):
    if os.path.exists(out):
        return
    # --keep-model-level: the model is measured, not the engine's loudness matching (a plain gain)
    cmd = [redance, "render", "--model", model, "--output", out + ".part.wav", "--provider", "cpu", "--keep-model-level", *args]
    if clip:
        cmd += ["--input", clip]
    if threads:
        cmd += ["--threads", str(threads)]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.replace(out + ".part.wav", out)


def read(path):
    x, sr = sf.read(path, dtype="float32", always_2d=True)
    assert sr == SR, f"{path}: {sr} Hz"
    return x.T


def fmt(v, spec="+6.1f"):
    return f"{v:{spec}}" if v is not None and np.isfinite(v) else "   n/a"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", action="append", required=True, help="NAME=DIR or NAME=git:REV (repeat)")
    ap.add_argument("--clips", default=os.path.join(ROOT, "target", "corpus", "eval"))
    ap.add_argument("--strengths", type=float, nargs="+", default=list(STRENGTHS))
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--generate", type=int, default=4, help="generated clips per model (0: none)")
    ap.add_argument("--redance", default=os.path.join(ROOT, "target", "release", "redance"))
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--work", default=os.path.join(ROOT, "target", "eval"))
    ap.add_argument("--picture", default=None, help="PNG: spectrograms of a clip, each model at 0.2 and 0.5")
    ap.add_argument("--picture-clip", default="piano")
    a = ap.parse_args()

    if not os.path.exists(a.redance):
        raise SystemExit(f"evaluate: {a.redance} is missing: build it (cargo build --release -p redance-cli)")
    clips = sorted(f for f in os.listdir(a.clips) if f.endswith(".wav"))
    if not clips:
        raise SystemExit(f"evaluate: no clips in {a.clips}: run models/corpus.py --eval-only")
    models = [resolve_model(s, a.work) for s in a.model]
    results = {}
    for name, folder in models:
        rdir = os.path.join(a.work, "renders", name)
        os.makedirs(rdir, exist_ok=True)
        res = results[name] = {"variation": {}, "generation": []}
        for s in a.strengths:
            rows = []
            for c in clips:
                for seed in a.seeds:
                    out = os.path.join(rdir, f"{c[:-4]}-s{s}-seed{seed}.wav")
                    render(a.redance, folder, os.path.join(a.clips, c), out,
                           ["--strength", str(s), "--seed", str(seed)], a.threads)
                    m = measure(read(os.path.join(a.clips, c)), read(out))
                    m["clip"], m["seed"] = c[:-4], seed
                    rows.append(m)
            res["variation"][str(s)] = rows
            print(f"{name}: strength {s} rendered", file=sys.stderr, flush=True)
        for seed in range(a.generate):
            out = os.path.join(rdir, f"generate-seed{seed}.wav")
            render(a.redance, folder, None, out, ["--mode", "generate", "--length", "2.73", "--seed", str(seed)],
                   a.threads)
            res["generation"].append(spectrum_stats(read(out)))

    def mean(rows, key):
        v = [r[key] for r in rows if r[key] is not None]
        return float(np.mean(v)) if v else None

    names = [n for n, _ in models]
    keys = [("snr", "SNR dB"), ("lmd", "LMD dB"), ("hiss", "hiss dB"), ("highs", "highs dB"),
            ("highs_off", "|highs| dB"), ("flat", "flat x"), ("level", "level dB")]
    print(f"\nvariation on {len(clips)} held-out clips x {len(a.seeds)} seeds (iPLMS 20, the plugin's defaults)")
    print("strength  " + "  ".join(f"{lbl:>{9 * len(names)}}" for _, lbl in keys))
    print("          " + "  ".join(" ".join(f"{n[:8]:>8}" for n in names) for _ in keys))
    for s in a.strengths:
        cells = []
        for key, _ in keys:
            cells.append(" ".join(fmt(mean(results[n]["variation"][str(s)], key), "8.2f" if key == "flat" else "+8.1f")
                                  for n in names))
        print(f"{s:<8}  " + "  ".join(cells))
    for s in ("0.2", "0.6"):
        if s not in results[names[0]]["variation"]:
            continue
        print(f"\nper clip at strength {s} (hiss / highs dB):")
        for c in clips:
            line = f"  {c[:-4]:<16}"
            for n in names:
                rows = [r for r in results[n]["variation"][s] if r["clip"] == c[:-4]]
                line += f"  {n[:8]:>8}: {fmt(mean(rows, 'hiss'))} / {fmt(mean(rows, 'highs'))}"
            print(line)
    if a.generate:
        real = [spectrum_stats(read(os.path.join(a.clips, c))) for c in clips]
        real_prof = np.mean([r["profile_db"] for r in real], axis=0)
        print("\ngeneration vs the held-out clips' spectra (mean of", a.generate, "x 2.73 s)")
        print(f"  {'':<10}{'tilt dB/oct':>12}{'flatness':>10}{'highs dB':>10}{'profile dist dB':>17}")
        print(f"  {'real':<10}{np.mean([r['tilt_db_per_octave'] for r in real]):>12.2f}"
              f"{np.mean([r['flatness'] for r in real]):>10.3f}{np.mean([r['highs_db'] for r in real]):>10.1f}{0:>17.1f}")
        for n in names:
            g = results[n]["generation"]
            dist = np.mean([np.mean(np.abs(r["profile_db"] - real_prof)) for r in g])
            print(f"  {n[:10]:<10}{np.mean([r['tilt_db_per_octave'] for r in g]):>12.2f}"
                  f"{np.mean([r['flatness'] for r in g]):>10.3f}{np.mean([r['highs_db'] for r in g]):>10.1f}{dist:>17.1f}")
            for r in g:
                r["profile_db"] = [round(float(v), 2) for v in r["profile_db"]]
    with open(os.path.join(a.work, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
    if a.picture:
        picture(a, models, os.path.join(a.clips, a.picture_clip + ".wav"))


def picture(a, models, clip):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    src = read(clip)
    panels = [("source", src)]
    for name, _ in models:
        for s in (0.2, 0.5):
            out = os.path.join(a.work, "renders", name, f"{os.path.basename(clip)[:-4]}-s{s}-seed1.wav")
            render(a.redance, dict(models)[name], clip, out, ["--strength", str(s), "--seed", "1"], a.threads)
            panels.append((f"{name}, strength {s}", read(out)))
    fig, axes = plt.subplots(len(panels), 1, figsize=(10, 2.1 * len(panels)), sharex=True, constrained_layout=True)
    ref = stft_power(src, n_fft=2048, hop=256)[0].max()
    for ax, (title, x) in zip(axes, panels):
        p, f = stft_power(x, n_fft=2048, hop=256)
        db = 10 * np.log10(p / ref + 1e-14)
        t = np.arange(p.shape[1]) * 256 / SR
        im = ax.pcolormesh(t, f / 1000, db, vmin=-100, vmax=0, shading="auto", cmap="magma")
        ax.set_ylabel("kHz")
        ax.set_ylim(0, 24)
        ax.set_title(f"{os.path.basename(clip)[:-4]}: {title}", fontsize=10, loc="left")
    axes[-1].set_xlabel("time (s)")
    fig.colorbar(im, ax=axes, label="dB (0 = the source's loudest)", shrink=0.6)
    fig.savefig(a.picture, dpi=80)
    print(f"wrote {a.picture}")


if __name__ == "__main__":
    main()
