#!/usr/bin/env python3
"""Widen a trained UNet1DModel without changing what it computes (Net2Net), so capacity can be added where
it is missing (the full-resolution level) without training from scratch.

Every widened activation keeps each old channel twice, side by side (channel i -> 2i and 2i+1): a layer
writing it repeats its output rows, a layer reading it repeats its input columns at half weight, and
GroupNorm(1, C) sees the same mean and variance. That stays true through the U-Net's concatenations, so
one rule covers every parameter: each dimension that doubled is interleaved. A little noise on the copies
then lets training tell them apart.

  python models/widen.py --from-onnx models/default/model.onnx --from small --to wide --out target/wide/unet
  python models/widen.py --from-unet target/redance-small2/unet --to wide --out target/wide/unet
"""
from __future__ import annotations

import argparse
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import dd_onnx  # noqa: E402


def widen(small, wide_config, noise=1e-3, seed=0):
    wide = dd_onnx.build_unet(wide_config).float()
    old = small.state_dict()
    new = wide.state_dict()
    g = torch.Generator().manual_seed(seed)
    out = {}
    for name, w in new.items():
        o = old[name].float()
        if o.shape == w.shape:
            out[name] = o.clone()
            continue
        x = o
        for dim, (a, b) in enumerate(zip(o.shape, w.shape)):
            if b == a:
                continue
            if b != 2 * a:
                raise ValueError(f"{name}: {tuple(o.shape)} -> {tuple(w.shape)} is not a doubling")
            x = x.repeat_interleave(2, dim=dim)
            if dim == 1:  # read twice: half each
                x = x / 2
        if noise and x.dim() > 1:
            x = x + noise * x.std() * torch.randn(x.shape, generator=g)
        out[name] = x
    wide.load_state_dict(out)
    return wide


def max_difference(a, b, length=8192):
    x = torch.randn(2, 2, length, generator=torch.Generator().manual_seed(1)) * 0.3
    t = torch.tensor([0.2, 0.7])
    with torch.no_grad():
        return float((a(x, t).sample - b(x, t).sample).abs().max())


def main():
    import onnx_weights
    import train

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--from-onnx", help="an exported model.onnx")
    src.add_argument("--from-unet", help="a diffusers UNet1DModel folder (a training run's OUT/unet)")
    ap.add_argument("--from", dest="src", default="small")
    ap.add_argument("--to", default="wide")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    if a.from_onnx:
        small, _ = onnx_weights.unet_from_onnx(a.from_onnx, train.model_config(a.src))
    else:
        from diffusers import UNet1DModel

        small = UNet1DModel.from_pretrained(a.from_unet).float().eval()
    exact = widen(small, train.model_config(a.to), noise=0)
    print(f"widened {a.src} -> {a.to}: max |wide - small| = {max_difference(exact, small):.2e} without noise")
    wide = widen(small, train.model_config(a.to))
    print(f"with the symmetry-breaking noise: {max_difference(wide, small):.2e}")
    wide.save_pretrained(a.out)


if __name__ == "__main__":
    main()
