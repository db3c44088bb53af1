#!/usr/bin/env python3
"""Where a GPU training step's time goes, so the next lease trains faster (a measurement, not a test).

The first H200 run (models/gpu/train.sh, two runs sharing the card) took 0.32 s a step for "small" and
0.48 s for "wide" at batch 32 x 65,536: far from what the card does. This times, on random data, one
training step (forward, backward, Adam) per configuration and way of running it, and the CPU's batch
making (train.sample_batch) on its own:
  fp32        as train.py runs it (TF32 matrix maths allowed)
  bf16        under bf16 autocast
  depthwise   diffusers' resamplers (a dense C x C x K convolution built every call) swapped for the
              export's depthwise ones (dd_onnx.prepare_for_export): the same maths
  compiled    torch.compile of the fp32 model

  python3 models/gpu/probe.py                  # on the device (PYTHONPATH with diffusers)
  python3 models/gpu/probe.py --device cpu --batch 2 --chunk 16384 --iters 2   # a rehearsal here
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import dd_onnx  # noqa: E402
import train  # noqa: E402


def sync(device):
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def step_ms(model, device, batch, chunk, iters, amp=False):
    """Mean wall time of one training step after warm-up (synchronised, so it is the GPU's time)."""
    opt = torch.optim.Adam(model.parameters(), lr=1e-5)
    x = torch.randn(batch, 2, chunk, device=device) * 0.3
    t = torch.rand(batch, device=device)

    def one():
        with torch.autocast(device.split(":")[0], dtype=torch.bfloat16, enabled=amp):
            loss = train.v_loss(model, x, t)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    for _ in range(3):
        one()
    sync(device)
    t0 = time.perf_counter()
    for _ in range(iters):
        one()
    sync(device)
    return (time.perf_counter() - t0) / iters * 1000


def depthwise(unet):
    m = dd_onnx.prepare_for_export(unet, hierarchical_groupnorm=False, depthwise_resample=True).train()
    for p in m.parameters():
        p.requires_grad_(True)
    return m


def batch_ms(batch, chunk, iters, threads):
    """train.sample_batch from an in-memory corpus of 12 s items, per batch, with `threads` makers at once."""
    import threading

    corpus = train.Corpus.__new__(train.Corpus)
    rng = np.random.default_rng(0)
    corpus.items = [rng.integers(-8000, 8000, size=(2, 12 * train.SR), dtype=np.int16) for _ in range(64)]
    corpus.lengths = np.array([x.shape[1] for x in corpus.items], np.float64)

    def work(i):
        r = np.random.default_rng(i)
        for _ in range(iters):
            train.sample_batch(r, corpus, batch, chunk)

    ts = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    t0 = time.perf_counter()
    for th in ts:
        th.start()
    for th in ts:
        th.join()
    return (time.perf_counter() - t0) / (iters * threads) * 1000


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--chunk", type=int, default=65536)
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--configs", default="small,wide")
    ap.add_argument("--no-compile", action="store_true")
    a = ap.parse_args()
    if a.device.startswith("cuda"):
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True
        print(torch.cuda.get_device_name(), torch.__version__, flush=True)
    frames = a.batch * a.chunk
    for threads in (1, 3):
        ms = batch_ms(a.batch, a.chunk, max(2, a.iters // 2), threads)
        print(f"batch making, {threads} thread(s): {ms:7.1f} ms a batch", flush=True)
    for name in a.configs.split(","):
        unet = dd_onnx.build_unet(train.model_config(name)).to(a.device).train()
        runs = [("fp32", unet, False), ("bf16", unet, True), ("depthwise", depthwise(unet).to(a.device), False)]
        if not a.no_compile:
            runs.append(("compiled", torch.compile(unet), False))
        for label, model, amp in runs:
            try:
                t0 = time.perf_counter()
                ms = step_ms(model, a.device, a.batch, a.chunk, a.iters, amp)
                print(f"{name:6s} {label:10s} {ms:8.1f} ms a step  {frames / ms / 1e3:7.2f} M frames/s  "
                      f"(with warm-up {time.perf_counter() - t0:.0f} s)", flush=True)
            except Exception as e:  # a variant that fails must not hide the others' numbers
                print(f"{name:6s} {label:10s} failed: {type(e).__name__}: {str(e)[:200]}", flush=True)
        if a.device.startswith("cuda"):
            print(f"{name}: peak GPU memory {torch.cuda.max_memory_allocated() / 2**30:.1f} GiB", flush=True)
            torch.cuda.reset_peak_memory_stats()


if __name__ == "__main__":
    main()
