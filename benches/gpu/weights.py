#!/usr/bin/env python3
"""Moves the full-size benchmark model to the GPU machine without its 845 MB of weights.

    python3 benches/gpu/weights.py strip target/bench/full-size-random target/gpu-kit/stage/full   # here
    python3 benches/gpu/weights.py fill  KIT/full /tmp/full-size-random                          # there

`strip` keeps the graph and, for every float initializer, its shape, mean and standard deviation; `fill`
draws new weights with those statistics (seeded) and writes a normal model folder (model.onnx + manifest).
The weights are random either way (the benchmark's full-size model is an untrained configuration): cost
does not depend on them, and activations keep the scale of the original random model, which is what the
fp16 checks need. Needs onnx + numpy.
"""
from __future__ import annotations

import hashlib
import json
import os
import sys

import numpy as np


def strip(src_dir: str, dst_dir: str):
    import onnx
    from onnx import numpy_helper

    man = json.load(open(os.path.join(src_dir, "manifest.json")))
    model = onnx.load(os.path.join(src_dir, man["onnx"]))
    stats = {}
    for init in model.graph.initializer:
        if init.data_type != onnx.TensorProto.FLOAT or np.prod(init.dims) < 64:
            continue  # small tensors (constants, norms' eps) travel as they are
        w = numpy_helper.to_array(init).astype(np.float64)
        stats[init.name] = [float(w.mean()), float(w.std())]
        init.ClearField("raw_data")
        init.ClearField("float_data")
    os.makedirs(dst_dir, exist_ok=True)
    onnx.save(model, os.path.join(dst_dir, "graph.onnx"))
    man.pop("variants", None)
    json.dump({"manifest": man, "stats": stats}, open(os.path.join(dst_dir, "weights.json"), "w"))
    print(f"stripped {len(stats)} tensors: {os.path.getsize(os.path.join(dst_dir, 'graph.onnx')) / 2**20:.1f} MiB")


def fill(kit_dir: str, out_dir: str, seed: int = 0):
    import onnx
    from onnx import numpy_helper

    meta = json.load(open(os.path.join(kit_dir, "weights.json")))
    model = onnx.load(os.path.join(kit_dir, "graph.onnx"))
    rng = np.random.default_rng(seed)
    for init in model.graph.initializer:
        if init.name in meta["stats"]:
            mean, std = meta["stats"][init.name]
            w = rng.normal(mean, std, size=tuple(init.dims)).astype(np.float32)
            init.CopyFrom(numpy_helper.from_array(w, init.name))
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "model.onnx")
    onnx.save(model, path)
    man = meta["manifest"]
    man["onnx"] = "model.onnx"
    man["sha256"] = hashlib.sha256(open(path, "rb").read()).hexdigest()
    json.dump(man, open(os.path.join(out_dir, "manifest.json"), "w"), indent=2)
    print(f"filled {len(meta['stats'])} tensors: {path} ({os.path.getsize(path) / 2**20:.0f} MiB)")


if __name__ == "__main__":
    cmd, a, b = sys.argv[1:4]
    {"strip": strip, "fill": fill}[cmd](a, b)
