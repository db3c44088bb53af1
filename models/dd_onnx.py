"""Shared Dance Diffusion <-> ONNX helpers for Redance (needs torch + diffusers; onnxruntime for verification).

* `dance_config` / `build_unet`: diffusers `UNet1DModel` configured like Harmonai's Dance Diffusion
  (the original `DiffusionAttnUnet1D`): DownBlock1DNoSkip + DownBlock1D... + AttnDownBlock1D..., UNetMidBlock1D,
  mirrored up blocks, Fourier time features (16 = 8 cos + 8 sin, cos first) concatenated to the input.
* `prepare_for_export`: returns an export-ready copy of a UNet1DModel in which
    - every `GroupNorm(1, C)` is replaced by `HierGroupNorm1`, numerically equivalent but computing the mean and
      variance hierarchically (sum inside blocks of the length axis, then sum of the block sums, then over
      channels), so that ONNX Runtime matches PyTorch on long inputs (a flat float32 ReduceMean over
      C x L ~ 10^7 elements drifts);
    - diffusers' `Downsample1d` / `Upsample1d` (a dense C x C x K conv whose weight is diagonal, built at run time
      with index assignment) are replaced by the exactly equivalent depthwise conv (groups=C): identical maths,
      C times fewer multiply-adds, and a static weight in the graph.
* `DDWrapper`: forward(audio [B,2,L], t [B]) -> v [B,2,L]; t is the continuous diffusion time in [0, 1].
* `export_onnx`: dynamo export (dynamic batch + length), single self-contained .onnx, `manifest.json`.
* `verify_onnx`: onnxruntime checks (valid lengths, batch 1/2, parity against PyTorch).
"""
from __future__ import annotations

import copy
import hashlib
import json
import math
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# --------------------------------------------------------------------------- configuration

FULL_BLOCK_OUT_CHANNELS = (128, 128, 256, 256, 512, 512, 512, 512, 512, 512, 512, 512, 512)
FULL_N_ATTN = 5  # original: depth 14, n_attn_layers=4 -> attention in levels 9..14 (5 down/up blocks + mid)


def dance_config(block_out_channels=FULL_BLOCK_OUT_CHANNELS, n_attn=FULL_N_ATTN, sample_size=65536,
                 sample_rate=48000) -> dict:
    """UNet1DModel kwargs for a Dance Diffusion style net.

    block_out_channels[i] is the width of level i+1 of the original recursive net (c_mults[:depth-1]);
    the last entry is also the width of the innermost level (UNetMidBlock1D). n_attn is the number of
    down (and up) blocks with self-attention, counted from the deepest.
    """
    n = len(block_out_channels)
    assert 0 <= n_attn <= n - 1
    down = ["DownBlock1DNoSkip"] + ["DownBlock1D"] * (n - 1 - n_attn) + ["AttnDownBlock1D"] * n_attn
    up = ["AttnUpBlock1D"] * n_attn + ["UpBlock1D"] * (n - 1 - n_attn) + ["UpBlock1DNoSkip"]
    return dict(
        sample_size=int(sample_size), sample_rate=int(sample_rate), in_channels=2, out_channels=2,
        extra_in_channels=16, time_embedding_type="fourier", time_embedding_dim=16, flip_sin_to_cos=True,
        use_timestep_embedding=False, freq_shift=0.0, down_block_types=tuple(down), up_block_types=tuple(up),
        mid_block_type="UNetMidBlock1D", out_block_type=None, block_out_channels=tuple(int(c) for c in block_out_channels),
        act_fn=None, downsample_each_block=False,
    )


def build_unet(config: dict):
    from diffusers import UNet1DModel

    return UNet1DModel(**config)


def length_multiple_of(unet) -> int:
    """2 ** number of downsamplings: every down block but the first, plus the mid block."""
    return 2 ** len(unet.up_blocks)


# --------------------------------------------------------------------------- export-friendly modules

def _block_sum(z: torch.Tensor, block: int) -> torch.Tensor:
    """Sum of z [B, C, L] over (C, L), computed hierarchically -> [B, 1, 1].

    The length axis is zero-padded to a multiple of `block` (zeros do not change a sum), reshaped to
    [B, C, nblocks, block] and summed inside blocks, then over blocks, then over channels.
    """
    length = z.shape[-1]
    pad = (block - length % block) % block
    z = F.pad(z, (0, pad))
    z = z.reshape(z.shape[0], z.shape[1], -1, block)
    s = z.sum(dim=-1)           # [B, C, nblocks]   <= block terms each
    s = s.sum(dim=-1)           # [B, C]            <= nblocks terms each
    return s.sum(dim=-1).reshape(-1, 1, 1)  # [B, 1, 1]  C terms


class HierGroupNorm1(nn.Module):
    """Drop-in replacement for nn.GroupNorm(1, C) on [B, C, L] inputs (two-pass, blockwise reductions)."""

    def __init__(self, gn: nn.GroupNorm, block: int = 256):
        super().__init__()
        assert gn.num_groups == 1
        self.num_channels = gn.num_channels
        self.eps = gn.eps
        self.block = block
        self.affine = gn.affine
        if gn.affine:
            self.weight = nn.Parameter(gn.weight.detach().clone())
            self.bias = nn.Parameter(gn.bias.detach().clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        count = x.shape[1] * x.shape[2]
        mean = _block_sum(x, self.block) / count
        d = x - mean
        var = _block_sum(d * d, self.block) / count
        y = d * torch.rsqrt(var + self.eps)
        if self.affine:
            y = y * self.weight.reshape(1, -1, 1) + self.bias.reshape(1, -1, 1)
        return y


class DepthwiseDownsample1d(nn.Module):
    """Exact equivalent of diffusers' Downsample1d (reflect pad + per-channel FIR, stride 2)."""

    def __init__(self, src, channels: int):
        super().__init__()
        self.pad = src.pad
        self.pad_mode = src.pad_mode
        self.register_buffer("weight", src.kernel.detach().clone().float().reshape(1, 1, -1).repeat(channels, 1, 1))
        self.channels = channels

    def forward(self, x):
        x = F.pad(x, (self.pad, self.pad), self.pad_mode)
        return F.conv1d(x, self.weight.to(x.dtype), stride=2, groups=self.channels)


class DepthwiseUpsample1d(nn.Module):
    """Exact equivalent of diffusers' Upsample1d (reflect pad + per-channel transposed FIR, stride 2)."""

    def __init__(self, src, channels: int):
        super().__init__()
        self.pad = src.pad
        self.pad_mode = src.pad_mode
        self.register_buffer("weight", src.kernel.detach().clone().float().reshape(1, 1, -1).repeat(channels, 1, 1))
        self.channels = channels

    def forward(self, x, temb=None):
        x = F.pad(x, ((self.pad + 1) // 2,) * 2, self.pad_mode)
        return F.conv_transpose1d(x, self.weight.to(x.dtype), stride=2, padding=self.pad * 2 + 1, groups=self.channels)


def _channels_entering(block, which: str) -> int:
    """Channel count seen by a block's down/up sampler."""
    if which == "down":
        return block.resnets[0].conv_1.in_channels
    return block.resnets[-1].conv_2.out_channels


def prepare_for_export(unet, hierarchical_groupnorm: bool = True, gn_block: int = 256, depthwise_resample: bool = True):
    """Deep-copied, eval-mode, float32 UNet1DModel with export-friendly modules swapped in."""
    from diffusers.models.unets.unet_1d_blocks import Downsample1d, Upsample1d

    m = copy.deepcopy(unet).float().eval()
    if hierarchical_groupnorm:
        for name, mod in list(m.named_modules()):
            for cname, child in list(mod.named_children()):
                if isinstance(child, nn.GroupNorm) and child.num_groups == 1:
                    setattr(mod, cname, HierGroupNorm1(child, gn_block))
    if depthwise_resample:
        blocks = list(m.down_blocks) + [m.mid_block] + list(m.up_blocks)
        for b in blocks:
            if isinstance(getattr(b, "down", None), Downsample1d):
                b.down = DepthwiseDownsample1d(b.down, _channels_entering(b, "down"))
            if isinstance(getattr(b, "up", None), Upsample1d):
                b.up = DepthwiseUpsample1d(b.up, _channels_entering(b, "up"))
        for name, mod in m.named_modules():
            assert not isinstance(mod, (Downsample1d, Upsample1d)), f"unpatched resampler at {name}"
    for p in m.parameters():
        p.requires_grad_(False)
    return m


class DDWrapper(nn.Module):
    """audio [B, 2, L] float32, t [B] float32 (continuous time in [0, 1]) -> v [B, 2, L]."""

    def __init__(self, unet):
        super().__init__()
        self.unet = unet

    def forward(self, audio: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return self.unet(audio, t, return_dict=False)[0]


# --------------------------------------------------------------------------- export

def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _finalize_onnx(model_path: str, description: str = ""):
    """Post-process the exported file in place.

    * graph inputs/outputs get readable symbolic dims: batch, length (the exporter emits s0, 512*s1, ...);
    * intermediate value_info is dropped;
    * the per-node debugging metadata the dynamo exporter attaches (stack traces, fx node names, class
      hierarchy; ~3 KB per node, i.e. larger than the weights of a small model) is dropped;
    * weights stay embedded (no external data).
    """
    import onnx

    model = onnx.load(model_path)
    for node in model.graph.node:
        del node.metadata_props[:]
        node.doc_string = ""
    model.doc_string = description
    del model.graph.value_info[:]  # intermediate shapes (symbolic); onnxruntime infers them itself
    for vi in list(model.graph.input) + list(model.graph.output):
        dims = vi.type.tensor_type.shape.dim
        if len(dims) >= 1:
            dims[0].ClearField("dim_value")
            dims[0].dim_param = "batch"
        if len(dims) == 3:
            dims[2].ClearField("dim_value")
            dims[2].dim_param = "length"
    onnx.save_model(model, model_path, save_as_external_data=False)


def export_onnx(unet, out_dir: str, *, name: str, description: str, sample_rate: int, window_length: int,
                hierarchical_groupnorm: bool = True, onnx_name: str = "model.onnx", opset: int | None = None,
                verify: bool = True, parity_lengths=None, extra_manifest: dict | None = None, log=print) -> dict:
    """Export `unet` (a diffusers UNet1DModel) to out_dir/model.onnx + out_dir/manifest.json.

    Returns the manifest dict (plus a "verification" entry if verify=True; that entry is not written).
    """
    os.makedirs(out_dir, exist_ok=True)
    model = DDWrapper(prepare_for_export(unet, hierarchical_groupnorm=hierarchical_groupnorm)).eval()
    mult = length_multiple_of(unet)
    onnx_path = os.path.join(out_dir, onnx_name)

    batch = torch.export.Dim("batch", min=1, max=1024)
    k = torch.export.Dim("k", min=1, max=(1 << 20) // mult if mult <= (1 << 14) else 64)
    length = mult * k
    audio = torch.randn(2, 2, 4 * mult)
    t = torch.rand(2)
    t0 = time.time()
    with torch.no_grad():
        prog = torch.onnx.export(
            model, (audio, t), dynamo=True, input_names=["audio", "t"], output_names=["v"],
            dynamic_shapes={"audio": {0: batch, 2: length}, "t": {0: batch}},
            opset_version=opset, optimize=True, external_data=False,
        )
    prog.save(onnx_path, external_data=False)
    _finalize_onnx(onnx_path, description)
    log(f"exported {onnx_path} ({os.path.getsize(onnx_path) / 2**20:.2f} MiB) in {time.time() - t0:.1f}s")
    data_file = onnx_path + ".data"
    assert not os.path.exists(data_file), "external data file written; expected a self-contained model"

    min_length = 3 * mult  # diffusers' DanceDiffusionPipeline minimum; verified below
    manifest = {
        "format": 1,
        "name": name,
        "description": description,
        "sample_rate": int(sample_rate),
        "channels": 2,
        "window_length": int(window_length),
        "length_multiple": int(mult),
        "min_length": int(min_length),
        "objective": "v",
        "inputs": {"audio": "audio", "t": "t"},
        "output": "v",
        "onnx": onnx_name,
        "sha256": sha256_file(onnx_path),
    }
    if extra_manifest:
        manifest.update(extra_manifest)
    result = dict(manifest)
    if verify:
        if parity_lengths is None:
            parity_lengths = [window_length, 4 * window_length]
        ver = verify_onnx(onnx_path, unet, mult, parity_lengths=parity_lengths,
                          hierarchical_groupnorm=hierarchical_groupnorm, log=log)
        manifest["min_length"] = ver["min_length"]
        result["min_length"] = ver["min_length"]
        result["verification"] = ver
    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    return result


# --------------------------------------------------------------------------- verification

def ort_session(onnx_path: str, threads: int = 2):
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    return ort.InferenceSession(onnx_path, so, providers=["CPUExecutionProvider"])


def verify_onnx(onnx_path: str, unet, mult: int, parity_lengths=(), hierarchical_groupnorm=True, seed=0,
                log=print) -> dict:
    """Run the exported model with onnxruntime: lengths k*mult, batch 1 and 2, parity vs PyTorch.

    The PyTorch reference is the *unmodified* diffusers model (stock GroupNorm / resamplers).
    """
    sess = ort_session(onnx_path)
    names = [i.name for i in sess.get_inputs()]
    assert names == ["audio", "t"], names
    assert [o.name for o in sess.get_outputs()] == ["v"]
    rng = np.random.default_rng(seed)
    out = {"onnxruntime": __import__("onnxruntime").__version__}

    def run(x, t):
        return sess.run(["v"], {"audio": x.astype(np.float32), "t": t.astype(np.float32)})[0]

    # valid lengths: which multiples k*mult run; half multiples must fail
    ok = []
    for kk in (1, 2, 3, 4, 5, 7):
        x = rng.standard_normal((1, 2, kk * mult)).astype(np.float32)
        try:
            y = run(x, np.array([0.5]))
            assert y.shape == x.shape and np.isfinite(y).all()
            ok.append(kk)
        except Exception:  # noqa: BLE001
            pass
    out["ok_multiples"] = ok
    min_k = min(k for k in ok if all(j in ok for j in (3, 4, 5, 7) if j >= k))
    out["min_length"] = int(min_k * mult)
    bad_len = 4 * mult + mult // 2
    try:
        run(rng.standard_normal((1, 2, bad_len)).astype(np.float32), np.array([0.5]))
        out["non_multiple_rejected"] = False
    except Exception:  # noqa: BLE001
        out["non_multiple_rejected"] = True
    log(f"lengths: runs for k*{mult} with k in {ok}; min_length {out['min_length']}; "
        f"{bad_len} rejected: {out['non_multiple_rejected']}")

    # batch 1 vs batch 2 consistency
    x2 = rng.standard_normal((2, 2, 4 * mult)).astype(np.float32)
    t2 = np.array([0.3, 0.8], dtype=np.float32)
    y2 = run(x2, t2)
    y1 = np.concatenate([run(x2[i:i + 1], t2[i:i + 1]) for i in range(2)])
    out["batch2_vs_batch1_max_abs"] = float(np.abs(y2 - y1).max())
    log(f"batch 2 vs 2x batch 1 max abs diff: {out['batch2_vs_batch1_max_abs']:.3e}")

    ref = copy.deepcopy(unet).float().eval()
    out["parity"] = []
    for length in parity_lengths:
        x = (rng.standard_normal((1, 2, length)) * 0.5).astype(np.float32)
        t = np.array([0.6], dtype=np.float32)
        t0 = time.time()
        with torch.no_grad():
            yt = ref(torch.from_numpy(x), torch.from_numpy(t), return_dict=False)[0].numpy()
        t_torch = time.time() - t0
        t0 = time.time()
        yo = run(x, t)
        t_ort = time.time() - t0
        d = float(np.abs(yo - yt).max())
        rel = d / float(np.abs(yt).max() + 1e-12)
        out["parity"].append({"length": int(length), "max_abs_diff": d, "max_abs_ref": float(np.abs(yt).max()),
                              "torch_s": round(t_torch, 2), "ort_s": round(t_ort, 2)})
        log(f"parity @ {length}: max abs diff {d:.3e} (rel {rel:.2e}); torch {t_torch:.1f}s, ort {t_ort:.1f}s")
    return out
