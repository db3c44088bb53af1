#!/usr/bin/env python3
"""A tiny Dance Diffusion checkpoint in Harmonai's original `.ckpt` layout, written with the standard
library alone (no torch), so the import test can start on a machine that has none yet.

The file is what `torch.save` writes for a Lightning checkpoint of audio-diffusion's DiffusionUncond:
a zip with `<archive>/data.pkl` (protocol 2; tensors as `torch._utils._rebuild_tensor_v2` over
persistent `FloatStorage`s), `data/<key>` raw little-endian float32, `byteorder` and `version`.
The state dict holds `diffusion.*` and `diffusion_ema.*` copies of a DiffusionAttnUnet1D with the
original key names (models/tests/original_dd.py builds the same network in PyTorch), random weights.

  python3 tests/import/make_tiny_ckpt.py OUT.ckpt [--seed N]
"""
from __future__ import annotations

import argparse
import array
import collections
import math
import pickle
import random
import sys
import types
import zipfile

IO, DEPTH, N_ATTN, C_MULTS = 2, 5, 1, [16, 32, 32, 32, 32]
N_FOURIER = 16
CUBIC = [-0.01171875, -0.03515625, 0.11328125, 0.43359375, 0.43359375, 0.11328125, -0.03515625, -0.01171875]


def shapes():
    """(key, shape, init) of DiffusionAttnUnet1D(IO, DEPTH, N_ATTN, C_MULTS), in module order."""
    out = [("timestep_embed.weight", [N_FOURIER // 2, 1], "normal")]

    def rb(p, c_in, c_mid, c_out, is_last=False):
        out.extend([(f"{p}main.0.weight", [c_mid, c_in, 5], "conv"), (f"{p}main.0.bias", [c_mid], "bias"),
                    (f"{p}main.1.weight", [c_mid], "gn_w"), (f"{p}main.1.bias", [c_mid], "bias"),
                    (f"{p}main.3.weight", [c_out, c_mid, 5], "conv"), (f"{p}main.3.bias", [c_out], "bias")])
        if not is_last:
            out.extend([(f"{p}main.4.weight", [c_out], "gn_w"), (f"{p}main.4.bias", [c_out], "bias")])
        if c_in != c_out:
            out.append((f"{p}skip.weight", [c_out, c_in, 1], "conv"))

    def att(p, c):
        out.extend([(f"{p}norm.weight", [c], "gn_w"), (f"{p}norm.bias", [c], "bias"),
                    (f"{p}qkv_proj.weight", [3 * c, c, 1], "conv"), (f"{p}qkv_proj.bias", [3 * c], "bias"),
                    (f"{p}out_proj.weight", [c, c, 1], "conv"), (f"{p}out_proj.bias", [c], "bias")])

    attn_layer = DEPTH - N_ATTN - 1

    def level(i, p):
        c = C_MULTS[i - 1]
        if i == 1:
            rb(f"{p}0.", IO + N_FOURIER, c, c)
            rb(f"{p}1.", c, c, c)
            rb(f"{p}2.", c, c, c)
            level(2, f"{p}3.main.")
            rb(f"{p}4.", 2 * c, c, c)
            rb(f"{p}5.", c, c, c)
            rb(f"{p}6.", c, c, IO, is_last=True)
            return
        c_prev, attn = C_MULTS[i - 2], i >= attn_layer and N_ATTN > 0
        out.append((f"{p}0.kernel", [8], "down"))
        rb(f"{p}1.", c_prev, c, c)
        for j in (2, 4, 6, 9, 11):
            if attn:
                att(f"{p}{j}.", c)
        rb(f"{p}3.", c, c, c)
        rb(f"{p}5.", c, c, c)
        if i < DEPTH:
            level(i + 1, f"{p}7.main.")
        rb(f"{p}8.", 2 * c if i != DEPTH else c, c, c)
        rb(f"{p}10.", c, c, c)
        rb(f"{p}12.", c, c, c_prev)
        if attn:
            att(f"{p}13.", c_prev)
        out.append((f"{p}14.kernel", [8], "up"))

    level(1, "net.")
    return out


def values(shape, init, rng):
    n = math.prod(shape)
    if init == "down":
        return list(CUBIC)
    if init == "up":
        return [2 * k for k in CUBIC]
    if init == "conv":
        std = 1 / math.sqrt(math.prod(shape[1:]))
        return [rng.gauss(0, std) for _ in range(n)]
    if init == "gn_w":
        return [1 + rng.gauss(0, 0.2) for _ in range(n)]
    if init == "bias":
        return [rng.gauss(0, 0.1) for _ in range(n)]
    return [rng.gauss(0, 1) for _ in range(n)]


# Stand-ins with torch's names, so that pickle writes the references torch.load expects.
_torch = types.ModuleType("torch")
_utils = types.ModuleType("torch._utils")


def _rebuild_tensor_v2(*args):  # never called here: only its name is written
    raise NotImplementedError


_rebuild_tensor_v2.__module__ = "torch._utils"
_utils._rebuild_tensor_v2 = _rebuild_tensor_v2


class FloatStorage:
    pass


FloatStorage.__module__ = "torch"
_torch.FloatStorage = FloatStorage


class _Storage:
    def __init__(self, key, numel):
        self.key, self.numel = key, numel


class _Tensor:
    def __init__(self, key, shape):
        self.key, self.shape = key, shape

    def __reduce__(self):
        stride, acc = [], 1
        for d in reversed(self.shape):
            stride.insert(0, acc)
            acc *= d
        return (_rebuild_tensor_v2, (_Storage(self.key, math.prod(self.shape)), 0, tuple(self.shape), tuple(stride),
                                     False, collections.OrderedDict()))


class _Pickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, _Storage):
            return ("storage", FloatStorage, obj.key, "cpu", obj.numel)
        return None


def write(path, seed=0):
    rng = random.Random(seed)
    saved = {name: sys.modules.get(name) for name in ("torch", "torch._utils")}
    sys.modules["torch"], sys.modules["torch._utils"] = _torch, _utils
    try:
        storages, state = [], collections.OrderedDict()
        net = [(key, shape, values(shape, init, rng)) for key, shape, init in shapes()]
        for prefix in ("diffusion.", "diffusion_ema."):
            for key, shape, vals in net:
                storages.append(array.array("f", vals))
                state[prefix + key] = _Tensor(str(len(storages) - 1), shape)
        ckpt = {"state_dict": state, "global_step": 0, "epoch": 0}
        import io

        buf = io.BytesIO()
        _Pickler(buf, protocol=2).dump(ckpt)
    finally:
        for name, mod in saved.items():
            if mod is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = mod
    if sys.byteorder != "little":
        for s in storages:
            s.byteswap()
    archive = "tiny"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr(f"{archive}/data.pkl", buf.getvalue())
        z.writestr(f"{archive}/byteorder", "little")
        for i, s in enumerate(storages):
            z.writestr(f"{archive}/data/{i}", s.tobytes())
        z.writestr(f"{archive}/version", "3\n")
    return sum(len(s) for s in storages) // 2


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    n = write(a.out, a.seed)
    print(f"wrote {a.out}: DiffusionAttnUnet1D depth {DEPTH}, widths {C_MULTS}, {n} parameters per copy")


if __name__ == "__main__":
    main()
