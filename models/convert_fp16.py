#!/usr/bin/env python3
"""Adds an fp16 variant to an exported Redance model folder (for the CUDA execution provider).

    target/venv-models/bin/python models/convert_fp16.py models/default
    target/venv-models/bin/python models/convert_fp16.py MODEL_DIR --check      # + quality vs fp32

Writes MODEL_DIR/model.fp16.onnx and records it in manifest.json under "variants": {"fp16": {onnx, sha256}}.
The engine runs it when the session is on CUDA and the precision setting is auto or fp16 (on the CPU the fp16
graph is no faster, so auto keeps fp32 there).

Weights and activations become fp16; the inputs and the output stay fp32 (the engine's tensors do not change).
The GroupNorm statistics stay fp32: the exported GroupNorm sums d*d over up to channels*length elements
(hierarchically, models/dd_onnx.py), and such a sum overflows fp16's 65504 on any real activation. Blocked in
fp32: every ReduceSum, the ops that feed it (the square, the padding and reshapes) and every op computed only
from those sums (division by the count, + eps, sqrt, reciprocal); the mean and the inverse deviation are cast
back to fp16 where they meet the activations (both are bounded).
Needs onnx + onnxruntime (no torch).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time

import numpy as np

VARIANT_FILE = "model.fp16.onnx"
# Ops between a tensor and the ReduceSum that reads it (the hierarchical sum pads and reshapes first).
FEEDING_OPS = {"Pad", "Reshape", "Mul", "Pow"}


def statistics_nodes(graph) -> list[str]:
    """Names of the nodes that must stay fp32: reductions, what feeds them, and what follows from them alone."""
    producer = {out: n for n in graph.node for out in n.output}
    constant = {i.name for i in graph.initializer}
    constant |= {out for n in graph.node if n.op_type == "Constant" for out in n.output}
    blocked: set[str] = set()

    def feed(name: str):
        node = producer.get(name)
        if node is None or node.name in blocked or node.op_type not in FEEDING_OPS:
            return
        blocked.add(node.name)
        if node.op_type in ("Pad", "Reshape"):
            feed(node.input[0])

    for n in graph.node:
        if n.op_type == "ReduceSum":
            blocked.add(n.name)
            feed(n.input[0])
    # Shape arithmetic (the element count the sums are divided by) is static: it never carries activations.
    static = set(constant)
    for n in graph.node:
        if n.op_type in ("Shape", "Size") or all(i in static for i in n.input if i):
            static.update(n.output)
    # Forward closure: a node computed only from blocked nodes and static values is statistics too.
    changed = True
    while changed:
        changed = False
        for n in graph.node:
            if n.name in blocked or n.output[0] in static:
                continue
            live = [i for i in n.input if i and i not in static]
            if live and all(i in producer and producer[i].name in blocked for i in live):
                blocked.add(n.name)
                changed = True
    # The shape arithmetic itself stays as exported too (the converter would turn its float Casts into
    # fp16 ones without a cast back where a statistics node reads them).
    blocked |= {n.name for n in graph.node if n.op_type != "Constant" and n.output and n.output[0] in static}
    return sorted(blocked)


def drop_round_trips(graph):
    """Removes fp32 -> fp16 -> fp32 Cast pairs. The converter casts every blocked node's output to fp16 and
    back to fp32 for the next blocked node, which would overflow the very sums kept in fp32."""
    from onnx import TensorProto

    def cast_to(n):
        return next((a.i for a in n.attribute if a.name == "to"), None) if n.op_type == "Cast" else None

    producer = {out: n for n in graph.node for out in n.output}
    outputs = {o.name for o in graph.output}
    rename = {}
    for n in graph.node:
        up = producer.get(n.input[0]) if n.input else None
        if (cast_to(n) == TensorProto.FLOAT and up is not None and cast_to(up) == TensorProto.FLOAT16
                and n.output[0] not in outputs):
            rename[n.output[0]] = up.input[0]
    for n in graph.node:
        for k, name in enumerate(n.input):
            if name in rename:
                n.input[k] = rename[name]
    used = {i for n in graph.node for i in n.input} | outputs
    while True:  # drop casts nobody reads any more
        dead = [n for n in graph.node if n.op_type == "Cast" and all(o not in used for o in n.output)]
        if not dead:
            break
        for n in dead:
            graph.node.remove(n)
        used = {i for n in graph.node for i in n.input} | outputs
    return len(rename)


def topological_sort(graph):
    """Reorders graph.node so that every node follows the producers of its inputs (ONNX requires it)."""
    produced_by = {out: i for i, n in enumerate(graph.node) for out in n.output}
    order, state = [], {}

    def visit(i):
        if state.get(i) == 2:
            return
        stack = [(i, False)]
        while stack:
            j, done = stack.pop()
            if done:
                state[j] = 2
                order.append(j)
                continue
            if state.get(j):
                continue
            state[j] = 1
            stack.append((j, True))
            for name in graph.node[j].input:
                k = produced_by.get(name)
                if k is not None and not state.get(k):
                    stack.append((k, False))

    for i in range(len(graph.node)):
        visit(i)
    nodes = [graph.node[i] for i in order]
    del graph.node[:]
    graph.node.extend(nodes)


def convert(model_dir: str) -> str:
    import onnx
    from onnxruntime.transformers.float16 import convert_float_to_float16

    man_path = os.path.join(model_dir, "manifest.json")
    man = json.load(open(man_path))
    model = onnx.load(os.path.join(model_dir, man["onnx"]))
    for i, n in enumerate(model.graph.node):
        if not n.name:
            n.name = f"node_{i}"
    keep = statistics_nodes(model.graph)
    half = convert_float_to_float16(model, keep_io_types=True, node_block_list=keep)
    drop_round_trips(half.graph)
    topological_sort(half.graph)  # the converter appends the input casts after their readers
    dst = os.path.join(model_dir, VARIANT_FILE)
    onnx.save(half, dst)
    onnx.checker.check_model(dst)
    digest = hashlib.sha256(open(dst, "rb").read()).hexdigest()
    man.setdefault("variants", {})["fp16"] = {"onnx": VARIANT_FILE, "sha256": digest}
    with open(man_path, "w") as f:
        json.dump(man, f, indent=2)
        f.write("\n")
    print(f"wrote {dst} ({os.path.getsize(dst) / 2**20:.1f} MiB; {len(keep)} statistics nodes kept in fp32)")
    return dst


def check(model_dir: str, length: int, times=(0.1, 0.5, 0.9), seed=0):
    """Per-call SNR of the fp16 graph against fp32 on the same inputs (ONNX Runtime CPU)."""
    import onnxruntime as ort

    man = json.load(open(os.path.join(model_dir, "manifest.json")))
    opts = ort.SessionOptions()
    sessions = [ort.InferenceSession(os.path.join(model_dir, f), opts, providers=["CPUExecutionProvider"])
                for f in (man["onnx"], man["variants"]["fp16"]["onnx"])]
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((1, man["channels"], length)).astype(np.float32)
    for t in times:
        feed = {man["inputs"]["audio"]: x, man["inputs"]["t"]: np.array([t], np.float32)}
        a, b = (s.run(None, feed)[0] for s in sessions)
        finite = bool(np.isfinite(b).all())
        snr = 10 * np.log10(np.mean(a.astype(np.float64) ** 2) / max(np.mean((a - b).astype(np.float64) ** 2), 1e-30))
        print(f"t={t:.2f}: fp16 vs fp32 SNR {snr:.1f} dB, max abs diff {np.abs(a - b).max():.2e}, finite {finite}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model_dir")
    ap.add_argument("--check", action="store_true", help="print per-call SNR against fp32")
    ap.add_argument("--length", type=int, default=None, help="check length (default: the window)")
    a = ap.parse_args(argv)
    t0 = time.time()
    convert(a.model_dir)
    print(f"converted in {time.time() - t0:.0f} s")
    if a.check:
        man = json.load(open(os.path.join(a.model_dir, "manifest.json")))
        check(a.model_dir, a.length or man["window_length"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
