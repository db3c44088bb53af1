#!/usr/bin/env python3
"""Reference DDIM variation (Dance Diffusion notebook maths, eta 0, crash schedule) with NumPy + onnxruntime.

Writes the fixture the Rust engine's integration test compares against:
  tests/fixtures/ddim_reference/source.wav    float32 WAV, 48 kHz stereo, `frames` frames (from examples/clip.wav)
  tests/fixtures/ddim_reference/noise.wav     float32 WAV, standard normal noise (what `--noise` takes)
  tests/fixtures/ddim_reference/expected.wav  float32 WAV, the variation at strength 0.5, 8 steps
  tests/fixtures/ddim_reference/params.json   everything needed to reproduce it (timesteps, alphas, sigmas ...)

No torch needed:  target/venv-models/bin/python models/reference_sample.py
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import dd_sampling  # noqa: E402
import synth  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model-dir", default=os.path.join(HERE, "default"))
    ap.add_argument("--source", default=os.path.join(ROOT, "examples", "clip.wav"))
    ap.add_argument("--out", default=os.path.join(ROOT, "tests", "fixtures", "ddim_reference"))
    ap.add_argument("--strength", type=float, default=0.5)
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--frames", type=int, default=None, help="default: the model's window_length")
    ap.add_argument("--noise-seed", type=int, default=1234)
    a = ap.parse_args()

    import onnxruntime as ort

    with open(os.path.join(a.model_dir, "manifest.json")) as f:
        man = json.load(f)
    onnx_path = os.path.join(a.model_dir, man["onnx"])
    frames = a.frames or man["window_length"]
    assert frames % man["length_multiple"] == 0 and frames >= man["min_length"]

    src, sr = synth.read_wav(a.source)
    assert sr == man["sample_rate"] and src.shape[0] == 2, (sr, src.shape)
    assert src.shape[1] >= frames, f"source has only {src.shape[1]} frames"
    source = src[:, :frames].astype(np.float32)
    noise = np.random.default_rng(a.noise_seed).standard_normal((2, frames)).astype(np.float32)

    def make_fn(threads):
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        sess = ort.InferenceSession(onnx_path, so, providers=["CPUExecutionProvider"])
        calls = []

        def fn(x, t):
            calls.append(float(t[0]))
            return sess.run([man["output"]], {man["inputs"]["audio"]: x, man["inputs"]["t"]: t})[0]
        return fn, calls

    fn, calls = make_fn(2)
    expected = dd_sampling.ddim_variation(fn, source[None], noise[None], a.strength, a.steps)[0]
    # run-to-run / thread-count sensitivity of the reference itself
    fn1, _ = make_fn(1)
    expected_1t = dd_sampling.ddim_variation(fn1, source[None], noise[None], a.strength, a.steps)[0]
    thread_diff = float(np.abs(expected - expected_1t).max())

    ts = dd_sampling.variation_timesteps(a.strength, a.steps)
    al, si = dd_sampling.alpha_sigma(ts)
    os.makedirs(a.out, exist_ok=True)
    synth.write_wav_f32(os.path.join(a.out, "source.wav"), source, sr)
    synth.write_wav_f32(os.path.join(a.out, "noise.wav"), noise, sr)
    synth.write_wav_f32(os.path.join(a.out, "expected.wav"), expected, sr)
    params = {
        "model_manifest": os.path.relpath(os.path.join(a.model_dir, "manifest.json"), ROOT),
        "model_name": man["name"],
        "model_sha256": man["sha256"],
        "sample_rate": sr,
        "frames": frames,
        "source": f"{os.path.relpath(a.source, ROOT)} frames [0, {frames}) (16-bit PCM / 32768, stored as float32)",
        "noise": f"numpy default_rng({a.noise_seed}).standard_normal((2, {frames})) as float32",
        "strength": a.strength,
        "steps": a.steps,
        "eta": 0.0,
        "schedule": "crash: t in linspace(0,1,steps+1); s=sin(t*pi/2)^2; a=sqrt(1-s^2); t'=atan2(s,a)*2/pi; "
                    "keep t' < strength, descending",
        "timesteps": [float(x) for x in ts],
        "alphas": [float(x) for x in al],
        "sigmas": [float(x) for x in si],
        "model_calls_t": calls,
        "init": "x = alpha[0]*source + sigma[0]*noise",
        "update": "v = model(x, t_i); pred = alpha_i*x - sigma_i*v; eps = sigma_i*x + alpha_i*v; "
                  "x = pred*alpha_{i+1} + eps*sigma_{i+1}; output = last pred",
        "precision": "float32 arithmetic, alpha/sigma computed in float64 then rounded to float32",
        "onnxruntime": ort.__version__,
        "expected_rms": float(np.sqrt(np.mean(expected.astype(np.float64) ** 2))),
        "expected_max_abs": float(np.abs(expected).max()),
        "snr_expected_vs_source_db": dd_sampling.snr_db(source, expected),
        "ort_1_vs_2_threads_max_abs_diff": thread_diff,
        "suggested_tolerance_max_abs": 1e-3,
    }
    with open(os.path.join(a.out, "params.json"), "w") as f:
        json.dump(params, f, indent=2)
        f.write("\n")
    print(json.dumps(params, indent=2))
    for n in ("source.wav", "noise.wav", "expected.wav"):
        print(n, os.path.getsize(os.path.join(a.out, n)), "bytes")


if __name__ == "__main__":
    main()
