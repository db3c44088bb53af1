#!/usr/bin/env python3
"""Read a UNet1DModel's weights back out of a Redance ONNX graph (to fine-tune an exported model whose
training checkpoint is gone).

Named initializers (convolutions, attention biases) map by name. The exporter folds the rest into
anonymous constants: GroupNorm scales and shifts reshaped to [1, C, 1], attention matrices transposed,
the Fourier time projection as [1, 8]. Those map in the order the graph first uses them, which is the
order the network uses its parameters; the result is then checked by running both on the same input,
so a wrong mapping is refused rather than trained on.

  python models/onnx_weights.py models/default/model.onnx --config small --out target/from-onnx/unet
"""
from __future__ import annotations

import argparse
import math
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import dd_onnx  # noqa: E402


def _forward_order(unet):
    """[(param name, how the graph stores it)] for parameters the exporter folds, in forward order."""
    from diffusers.models.embeddings import GaussianFourierProjection

    order, names = [], {id(p): n for n, p in unet.named_parameters()}
    for p in unet.parameters():
        p.requires_grad_(False)

    def hook(mod, _inp):
        if isinstance(mod, torch.nn.GroupNorm):
            order.extend([(names[id(mod.weight)], "channel"), (names[id(mod.bias)], "channel")])
        elif isinstance(mod, torch.nn.Linear):
            order.append((names[id(mod.weight)], "transposed"))
        elif isinstance(mod, GaussianFourierProjection):
            order.append((names[id(mod.weight)], "row"))

    hooks = [m.register_forward_pre_hook(hook) for m in unet.modules()
             if isinstance(m, (torch.nn.GroupNorm, torch.nn.Linear, GaussianFourierProjection))]
    with torch.no_grad():
        unet(torch.zeros(1, 2, 4 * dd_onnx.length_multiple_of(unet)), torch.tensor([0.5]))
    for h in hooks:
        h.remove()
    seen, out = set(), []
    for n, how in order:
        if n not in seen:
            seen.add(n)
            out.append((n, how))
    return out


def config_from_onnx(onnx_path, sample_rate=48000, window=65536):
    """The dance_config of a Redance graph, read off its named weights (widths per level, attention levels)."""
    import onnx

    names = {i.name: tuple(i.dims) for i in onnx.load(onnx_path, load_external_data=False).graph.initializer}
    widths, n_attn, i = [], 0, 0
    while f"unet.down_blocks.{i}.resnets.0.conv_2.weight" in names:
        widths.append(names[f"unet.down_blocks.{i}.resnets.0.conv_2.weight"][0])
        n_attn += any(n.startswith(f"unet.down_blocks.{i}.attentions.") for n in names)
        i += 1
    if not widths:
        raise SystemExit(f"onnx_weights: {onnx_path} is not a Redance Dance Diffusion graph")
    return dd_onnx.dance_config(tuple(widths), n_attn, window, sample_rate)


def unet_from_onnx(onnx_path, config=None, tol=1e-4):
    import onnx
    from onnx import numpy_helper

    model = onnx.load(onnx_path)
    init = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    first_use = {}
    for k, node in enumerate(model.graph.node):
        for name in node.input:
            first_use.setdefault(name, k)
    unet = dd_onnx.build_unet(config or config_from_onnx(onnx_path)).float().eval()
    state = unet.state_dict()
    new = {}
    for name in state:
        if "unet." + name in init:
            new[name] = torch.from_numpy(init["unet." + name].copy())
    anon = sorted((first_use.get(n, 1 << 30), n) for n in init if not n.startswith("unet.") and init[n].size > 1)
    queue = [n for _, n in anon]
    for name, how in _forward_order(unet):
        if name in new:
            continue
        want = state[name].numel()
        while queue and init[queue[0]].size != want:  # shape constants, padding sizes: skip
            queue.pop(0)
        if not queue:
            raise SystemExit(f"onnx_weights: no constant left for {name}")
        a = init[queue.pop(0)]
        if how == "transposed":
            a = a.T
        new[name] = torch.from_numpy(a.reshape(state[name].shape).copy())
    for name, v in state.items():
        if name not in new:
            new[name] = v  # fixed buffers (resampling kernels) come from the config
    unet.load_state_dict(new)
    err = check(unet, onnx_path)
    if not err <= tol:
        # the Fourier weights may be stored already multiplied by 2 pi
        w = unet.time_proj.weight
        with torch.no_grad():
            w.mul_(1 / (2 * math.pi))
        err = check(unet, onnx_path)
    if not err <= tol:
        raise SystemExit(f"onnx_weights: the recovered network differs from the graph by {err:.2e}: refused")
    return unet, err


def check(unet, onnx_path, length=8192):
    import onnxruntime as ort

    rng = np.random.default_rng(0)
    x = (rng.standard_normal((2, 2, length)) * 0.3).astype(np.float32)
    t = np.array([0.2, 0.7], np.float32)
    sess = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    want = sess.run(None, {"audio": x, "t": t})[0]
    with torch.no_grad():
        got = unet(torch.from_numpy(x), torch.from_numpy(t)).sample.numpy()
    return float(np.max(np.abs(got - want)))


def main():
    import train

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("onnx")
    ap.add_argument("--config", choices=sorted(train.CONFIGS), default="small")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    unet, err = unet_from_onnx(a.onnx, train.model_config(a.config))
    unet.save_pretrained(a.out)
    print(f"recovered {sum(p.numel() for p in unet.parameters())} parameters; max |torch - onnx| = {err:.2e}")


if __name__ == "__main__":
    main()
