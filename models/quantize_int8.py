#!/usr/bin/env python3
"""Optional reduced-precision CPU model: static int8 (QDQ) quantisation of an exported Redance model folder.

    target/venv-models/bin/python models/quantize_int8.py models/default --out target/models/default-int8

Writes OUT/model.onnx + OUT/manifest.json (a normal model folder: load it with `--model OUT` / REDANCE_MODEL).
Convolution weights int8 per output channel, activations uint8 per tensor, calibrated (min/max) on the example
clip noised to times spread over [0.05, 0.95] with its v-targets' own inputs — the inputs the sampler feeds the
model. ONNX Runtime runs QLinearConv with the CPU's VNNI int8 dot products where it has them.
Needs onnx + onnxruntime (no torch). Off by default in Redance: see the quality numbers in models/README.md.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)


def calibration_inputs(man, length, count, seed=0):
    import synth

    clip, sr = synth.read_wav(os.path.join(ROOT, "examples", "clip.wav"))
    rng = np.random.default_rng(seed)
    out = []
    for i in range(count):
        start = int(rng.integers(0, max(clip.shape[1] - length, 1)))
        x0 = clip[:, start:start + length]
        if x0.shape[1] < length:
            x0 = np.pad(x0, ((0, 0), (0, length - x0.shape[1])), mode="wrap")
        t = 0.05 + 0.9 * (i + 0.5) / count
        a, s = math.cos(t * math.pi / 2), math.sin(t * math.pi / 2)
        x = a * x0 + s * rng.standard_normal(x0.shape)
        out.append({man["inputs"]["audio"]: x[None].astype(np.float32),
                    man["inputs"]["t"]: np.array([t], np.float32)})
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model_dir")
    ap.add_argument("--out", required=True)
    ap.add_argument("--length", type=int, default=None, help="calibration length (default: the window)")
    ap.add_argument("--count", type=int, default=16, help="calibration inputs")
    ap.add_argument("--ops", default="Conv", help="comma list of op types to quantise")
    a = ap.parse_args(argv)

    import onnx
    from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType,
                                          quantize_static)
    from onnxruntime.quantization.shape_inference import quant_pre_process

    man = json.load(open(os.path.join(a.model_dir, "manifest.json")))
    src = os.path.join(a.model_dir, man["onnx"])
    length = a.length or man["window_length"]
    os.makedirs(a.out, exist_ok=True)
    pre = os.path.join(a.out, "pre.onnx")
    t0 = time.time()
    quant_pre_process(src, pre, skip_symbolic_shape=True)
    inputs = calibration_inputs(man, length, a.count)

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.it = iter(inputs)

        def get_next(self):
            return next(self.it, None)

    dst = os.path.join(a.out, "model.onnx")
    quantize_static(pre, dst, Reader(), quant_format=QuantFormat.QDQ, op_types_to_quantize=a.ops.split(","),
                    per_channel=True, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                    calibrate_method=CalibrationMethod.MinMax,
                    extra_options={"ActivationSymmetric": False, "WeightSymmetric": True})
    os.remove(pre)
    onnx.checker.check_model(dst)
    man = dict(man)
    man.pop("variants", None)  # other precisions of the source graph do not belong to the int8 folder
    man["name"] = man["name"] + "-int8"
    man["description"] = (man.get("description", "") + f" | int8 (QDQ, {a.ops} weights per channel, activations "
                          f"per tensor, {a.count} calibration inputs of {length}) by models/quantize_int8.py")
    man["onnx"] = "model.onnx"
    man["sha256"] = hashlib.sha256(open(dst, "rb").read()).hexdigest()
    with open(os.path.join(a.out, "manifest.json"), "w") as f:
        json.dump(man, f, indent=2)
        f.write("\n")
    print(f"wrote {dst} ({os.path.getsize(dst) / 2**20:.1f} MiB) in {time.time() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
