#!/usr/bin/env python3
"""PyTorch's answer for the import test: the original DiffusionAttnUnet1D (models/tests/original_dd.py)
loaded from the checkpoint itself, run through the notebook's DDIM variation (models/dd_sampling.py)
on a source and noise it writes beside the result, for `redance render --noise` to match.

  IMPORT_ENV/bin/python tests/import/reference.py CKPT OUT_DIR   (torch + diffusers: the import's env)
Writes OUT_DIR/{source,noise,expected}.wav (float32, 48 kHz, stereo, 4096 frames).
"""
import os
import struct
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path[:0] = [os.path.join(ROOT, "models"), os.path.join(ROOT, "models", "tests"), os.path.dirname(__file__)]

import checkpoint_safety  # noqa: E402
import dd_sampling  # noqa: E402
import make_tiny_ckpt as tiny  # noqa: E402

RATE, FRAMES, STRENGTH, STEPS = 48000, 4096, 0.5, 8


def write_f32(path, audio):
    data = audio.T.astype("<f4").tobytes()
    ch = audio.shape[0]
    fmt = struct.pack("<HHIIHH", 3, ch, RATE, RATE * 4 * ch, 4 * ch, 32)
    with open(path, "wb") as f:
        f.write(b"RIFF" + struct.pack("<I", 4 + 8 + len(fmt) + 8 + len(data)) + b"WAVE")
        f.write(b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data)


def main(ckpt, out):
    import torch

    import original_dd

    torch.set_num_threads(1)
    sd = checkpoint_safety.load(ckpt)["state_dict"]
    ema = {k[len("diffusion_ema."):]: v for k, v in sd.items() if k.startswith("diffusion_ema.")}
    net = original_dd.DiffusionAttnUnet1D(io_channels=tiny.IO, depth=tiny.DEPTH, n_attn_layers=tiny.N_ATTN,
                                          c_mults=tiny.C_MULTS)
    net.load_state_dict(ema, strict=True)
    net.eval()

    n = np.arange(FRAMES) / RATE
    source = np.stack([0.4 * np.sin(2 * np.pi * 220 * n), 0.3 * np.sin(2 * np.pi * 330 * n)]).astype(np.float32)
    noise = np.random.default_rng(7).standard_normal((2, FRAMES)).astype(np.float32)

    def model(x, t):
        with torch.no_grad():
            return net(torch.from_numpy(x), torch.from_numpy(t)).numpy()

    expected = dd_sampling.ddim_variation(model, source[None], noise[None], STRENGTH, STEPS)[0]
    os.makedirs(out, exist_ok=True)
    for name, audio in (("source", source), ("noise", noise), ("expected", expected)):
        write_f32(os.path.join(out, f"{name}.wav"), audio)
    print(f"PyTorch reference: DDIM {STEPS} steps, strength {STRENGTH}, max |expected| {np.abs(expected).max():.3f}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
