"""Convert a Dance Diffusion checkpoint to Redance's ONNX + manifest.json (logic behind `models/export`).

Accepted inputs
  * a diffusers Dance Diffusion repository / directory (e.g. a local copy of harmonai/maestro-150k): either the
    repository root (with `unet/`) or the `unet/` folder itself. Those checkpoints were converted with an old
    diffusers whose UNet1DModel always used 16 Fourier features; current diffusers defaults the width to
    2*block_out_channels[0], so `time_embedding_dim` is patched in from the weights (16).
  * an original Harmonai `.ckpt` (PyTorch Lightning checkpoint of audio-diffusion's `DiffusionUncond`, whose
    `diffusion_ema` / `diffusion` members are `DiffusionAttnUnet1D`): the state dict is mapped to diffusers'
    UNet1DModel layout here (no download of diffusers' conversion script needed). Depth, widths and attention
    levels are read from the state dict itself.

Original DiffusionAttnUnet1D layout (recursive; level 1 outermost, level `depth` innermost):
  level 1:   net = Sequential(RB(2+16 -> c1), RB, RB, <level 2>, RB(2*c1 -> c1), RB, RB(c1 -> 2, is_last))
  level k>1: SkipBlock(main = Sequential(Down, RB(c_{k-1} -> c_k), A, RB, A, RB, A, <level k+1 or Identity>,
             RB(2*c_k or c_k -> c_k), A, RB, A, RB(c_k -> c_{k-1}), A, Up)); forward = cat([main(x), x])
  RB (ResConvBlock): main = [Conv1d(5), GroupNorm(1), GELU, Conv1d(5), GroupNorm(1), GELU], skip = Conv1d(1, no bias)
  A (SelfAttention1d c // 32 heads): norm = GroupNorm(1), qkv_proj = Conv1d(c, 3c, 1), out_proj = Conv1d(c, c, 1)
diffusers: level 1 -> down_blocks[0] (DownBlock1DNoSkip) + up_blocks[-1] (UpBlock1DNoSkip); level k in
2..depth-1 -> down_blocks[k-1] + up_blocks[depth-1-k] (Attn* when the level has attention); level depth ->
mid_block (UNetMidBlock1D: 6 RB + 6 A).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

# name -> (sample_rate, sample_size) of Harmonai's released checkpoints
KNOWN_CHECKPOINTS = {
    "glitch-440k": (48000, 65536),
    "gwf-440k": (48000, 65536),
    "jmann-small-190k": (48000, 65536),
    "jmann-large-580k": (48000, 65536),
    "maestro-150k": (16000, 65536),
    "maestro-uncond-150k": (16000, 65536),
    "unlocked-250k": (16000, 65536),
    "unlocked-uncond-250k": (16000, 65536),
    "honk-140k": (16000, 65536),
}


def known_defaults(path: str):
    base = os.path.basename(os.path.normpath(path)).lower()
    for name in sorted(KNOWN_CHECKPOINTS, key=len, reverse=True):
        if name in base:
            return name, KNOWN_CHECKPOINTS[name]
    return None, (None, None)


# --------------------------------------------------------------------------- original .ckpt

def load_original_state_dict(path: str, which: str = "ema"):
    """Load a Harmonai .ckpt and return the DiffusionAttnUnet1D state dict (keys 'timestep_embed.weight', 'net....')."""
    import checkpoint_safety

    # Untrusted input: its pickles are scanned first, then loaded with weights_only=True (never falling back).
    ck = checkpoint_safety.load(path)
    sd = ck.get("state_dict", ck) if isinstance(ck, dict) else ck
    prefixes = ["diffusion_ema.", "diffusion."] if which == "ema" else ["diffusion.", "diffusion_ema."]
    for p in prefixes + [""]:
        sub = {k[len(p):]: v for k, v in sd.items() if k.startswith(p)}
        if "timestep_embed.weight" in sub and any(k.startswith("net.") for k in sub):
            return sub, p.rstrip(".") or "(root)"
    raise ValueError(f"{path}: no DiffusionAttnUnet1D weights found (looked for prefixes {prefixes})")


def _level_prefixes(sd):
    """Prefix of the Sequential holding each level's modules: level 1 'net.', level k 'net.3.main.(7.main.)*'."""
    prefixes = ["net."]
    p = "net.3.main."
    while f"{p}1.main.0.weight" in sd:
        prefixes.append(p)
        p = p + "7.main."
    return prefixes


def infer_original_config(sd):
    """-> (c_mults list per level, attention flag per level, fourier features, io channels)."""
    levels = _level_prefixes(sd)
    c = [sd["net.0.main.0.weight"].shape[0]]
    attn = [False]
    for p in levels[1:]:
        c.append(sd[f"{p}1.main.0.weight"].shape[0])
        attn.append(f"{p}2.qkv_proj.weight" in sd)
    n_fourier = 2 * sd["timestep_embed.weight"].shape[0]
    io = sd["net.6.main.3.weight"].shape[0]
    in0 = sd["net.0.main.0.weight"].shape[1]
    if in0 != io + n_fourier:
        raise ValueError(f"first conv takes {in0} channels, expected io {io} + fourier {n_fourier} (conditioned "
                         "models with extra latent channels are not supported)")
    return c, attn, n_fourier, io


def original_to_diffusers_config(sd, sample_rate, sample_size):
    import dd_onnx

    c, attn, n_fourier, io = infer_original_config(sd)
    depth = len(c)
    if depth < 3:
        raise ValueError("depth < 3 is not representable")
    if not attn[-1]:
        raise ValueError("innermost level has no attention; diffusers' UNetMidBlock1D always has attention")
    n_attn = sum(attn[1:-1])
    if attn[1:-1] != [False] * (depth - 2 - n_attn) + [True] * n_attn:
        raise ValueError(f"attention levels {attn} are not a contiguous innermost run")
    if c[-1] != c[-2]:
        raise ValueError("innermost width must equal the next level's (UNetMidBlock1D keeps its width)")
    for k in range(depth - 1 - n_attn, depth - 1):  # attention levels (0-based) must keep their width
        if c[k] != c[k - 1]:
            raise ValueError("levels with attention must have the same width as their parent (AttnUpBlock1D)")
    cfg = dd_onnx.dance_config(tuple(c[:-1]), n_attn, sample_size, sample_rate)
    cfg["in_channels"] = cfg["out_channels"] = io
    cfg["extra_in_channels"] = n_fourier
    cfg["time_embedding_dim"] = n_fourier
    return cfg


def convert_original_state_dict(sd, unet_state):
    """Map original keys to diffusers keys. unet_state: state_dict of the target model (for shapes/buffers)."""
    out = {}
    levels = _level_prefixes(sd)
    depth = len(levels)

    def rb(src, dst):
        for a, b in (("main.0", "conv_1"), ("main.1", "group_norm_1"), ("main.3", "conv_2"), ("main.4", "group_norm_2")):
            for w in ("weight", "bias"):
                if f"{src}.{a}.{w}" in sd:
                    out[f"{dst}.{b}.{w}"] = sd[f"{src}.{a}.{w}"]
        if f"{src}.skip.weight" in sd:
            out[f"{dst}.conv_skip.weight"] = sd[f"{src}.skip.weight"]

    def att(src, dst):
        out[f"{dst}.group_norm.weight"] = sd[f"{src}.norm.weight"]
        out[f"{dst}.group_norm.bias"] = sd[f"{src}.norm.bias"]
        w = sd[f"{src}.qkv_proj.weight"][:, :, 0]
        b = sd[f"{src}.qkv_proj.bias"]
        ch = w.shape[1]
        for i, name in enumerate(("query", "key", "value")):
            out[f"{dst}.{name}.weight"] = w[i * ch:(i + 1) * ch].clone()
            out[f"{dst}.{name}.bias"] = b[i * ch:(i + 1) * ch].clone()
        out[f"{dst}.proj_attn.weight"] = sd[f"{src}.out_proj.weight"][:, :, 0]
        out[f"{dst}.proj_attn.bias"] = sd[f"{src}.out_proj.bias"]

    out["time_proj.weight"] = sd["timestep_embed.weight"].reshape(-1)
    # level 1
    for j, src in enumerate((0, 1, 2)):
        rb(f"net.{src}", f"down_blocks.0.resnets.{j}")
    for j, src in enumerate((4, 5, 6)):
        rb(f"net.{src}", f"up_blocks.{depth - 2}.resnets.{j}")
    # levels 2 .. depth-1
    for k in range(2, depth):
        p = levels[k - 1]
        has_attn = f"{p}2.qkv_proj.weight" in sd
        for j, src in enumerate((1, 3, 5)):
            rb(f"{p}{src}", f"down_blocks.{k - 1}.resnets.{j}")
        for j, src in enumerate((8, 10, 12)):
            rb(f"{p}{src}", f"up_blocks.{depth - 1 - k}.resnets.{j}")
        if has_attn:
            for j, src in enumerate((2, 4, 6)):
                att(f"{p}{src}", f"down_blocks.{k - 1}.attentions.{j}")
            for j, src in enumerate((9, 11, 13)):
                att(f"{p}{src}", f"up_blocks.{depth - 1 - k}.attentions.{j}")
    # innermost level -> mid block
    p = levels[-1]
    for j, src in enumerate((1, 3, 5, 8, 10, 12)):
        rb(f"{p}{src}", f"mid_block.resnets.{j}")
    for j, src in enumerate((2, 4, 6, 9, 11, 13)):
        att(f"{p}{src}", f"mid_block.attentions.{j}")

    # resampler kernels are fixed constants (cubic); keep diffusers' own buffers
    for key, val in unet_state.items():
        if key.endswith(".kernel") and key not in out:
            out[key] = val
    missing = sorted(set(unet_state) - set(out))
    unexpected = sorted(set(out) - set(unet_state))
    if missing or unexpected:
        raise ValueError(f"key mapping mismatch: missing {missing[:8]}..., unexpected {unexpected[:8]}...")
    for key, val in out.items():
        if tuple(val.shape) != tuple(unet_state[key].shape):
            raise ValueError(f"shape mismatch for {key}: {tuple(val.shape)} vs {tuple(unet_state[key].shape)}")
    return out


def unet_from_original(path, sample_rate, sample_size, which="ema", log=print):
    import dd_onnx

    sd, prefix = load_original_state_dict(path, which)
    cfg = original_to_diffusers_config(sd, sample_rate, sample_size)
    unet = dd_onnx.build_unet(cfg)
    conv = convert_original_state_dict(sd, unet.state_dict())
    unet.load_state_dict(conv, strict=True)
    n_orig = sum(v.numel() for k, v in sd.items() if not k.endswith("kernel"))
    n_new = sum(p.numel() for p in unet.parameters())
    if n_orig != n_new:
        raise ValueError(f"parameter count mismatch: original {n_orig}, diffusers {n_new}")
    log(f"converted {path} [{prefix}]: {len(cfg['block_out_channels']) + 1} levels, widths "
        f"{list(cfg['block_out_channels'])}, {sum(t.startswith('Attn') for t in cfg['down_block_types'])} "
        f"attention blocks + mid, {n_new / 1e6:.1f} M parameters")
    return unet.eval()


# --------------------------------------------------------------------------- diffusers directory

def unet_from_diffusers(path, log=print):
    import torch
    from diffusers import UNet1DModel

    sub = "unet" if os.path.isdir(os.path.join(path, "unet")) else None
    cfg_dir = os.path.join(path, sub) if sub else path
    with open(os.path.join(cfg_dir, "config.json")) as f:
        cfg = json.load(f)
    overrides = {}
    if cfg.get("time_embedding_type", "fourier") == "fourier" and not cfg.get("time_embedding_dim"):
        # old dance diffusion conversions: 8 Fourier frequencies (16 features) == extra_in_channels
        overrides["time_embedding_dim"] = int(cfg.get("extra_in_channels") or 16)
    kwargs = {"subfolder": sub} if sub else {}
    try:
        unet = UNet1DModel.from_pretrained(path, **kwargs, **overrides)
    except TypeError:
        unet = UNet1DModel.from_pretrained(path, **kwargs)
    if overrides and unet.time_proj.weight.numel() * 2 != overrides["time_embedding_dim"]:
        raise ValueError("time_embedding_dim override was not applied")
    log(f"loaded diffusers UNet1DModel from {cfg_dir} ({sum(p.numel() for p in unet.parameters()) / 1e6:.1f} M "
        f"parameters){' with ' + str(overrides) if overrides else ''}")
    return unet.float().eval(), cfg


# --------------------------------------------------------------------------- cli

def main(argv=None):
    ap = argparse.ArgumentParser(
        prog="models/export",
        description="Export a Dance Diffusion checkpoint (diffusers directory or Harmonai .ckpt) to ONNX + manifest.json")
    ap.add_argument("source", help="diffusers repo/dir (with unet/ or the unet/ dir itself) or an original .ckpt")
    ap.add_argument("--out", required=True, help="output directory (model.onnx + manifest.json)")
    ap.add_argument("--name", default=None, help="manifest name (default: derived from the source)")
    ap.add_argument("--description", default=None)
    ap.add_argument("--sample-rate", type=int, default=None)
    ap.add_argument("--window-length", type=int, default=None, help="training sample_size (window) in frames")
    ap.add_argument("--weights", choices=["ema", "model"], default="ema", help=".ckpt only: EMA or raw weights")
    ap.add_argument("--no-verify", action="store_true", help="skip the onnxruntime checks")
    ap.add_argument("--parity-lengths", default=None,
                    help="comma separated lengths for the PyTorch-vs-ORT parity check (default: window, 4*window)")
    ap.add_argument("--plain-groupnorm", action="store_true",
                    help="keep stock GroupNorm (for comparison only; drifts on long inputs)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--fp16", action="store_true",
                    help="also write the fp16 variant the engine runs on CUDA (models/convert_fp16.py) and print "
                         "its per-call SNR against fp32")
    a = ap.parse_args(argv)

    import torch

    import dd_onnx

    torch.set_num_threads(a.threads)
    known, (k_sr, k_len) = known_defaults(a.source)
    if os.path.isdir(a.source):
        unet, cfg = unet_from_diffusers(a.source)
        sr = a.sample_rate or cfg.get("sample_rate") or k_sr
        window = a.window_length or cfg.get("sample_size") or k_len
        kind = "diffusers"
    else:
        sr = a.sample_rate or k_sr
        window = a.window_length or k_len
        if not sr or not window:
            ap.error(f"unknown checkpoint '{os.path.basename(a.source)}': pass --sample-rate and --window-length")
        unet = unet_from_original(a.source, sr, window, a.weights)
        kind = "harmonai-ckpt"
    if not sr or not window:
        ap.error("sample rate / window length unknown: pass --sample-rate and --window-length")
    mult = dd_onnx.length_multiple_of(unet)
    if window % mult:
        ap.error(f"--window-length {window} is not a multiple of {mult}")
    name = a.name or known or re.sub(r"\.ckpt$", "", os.path.basename(os.path.normpath(a.source)))
    desc = a.description or (f"Dance Diffusion '{name}' ({kind}: {os.path.basename(os.path.normpath(a.source))}), "
                             f"{sr} Hz, window {window}; exported by models/export")
    lengths = None
    if a.parity_lengths:
        lengths = [int(x) for x in a.parity_lengths.split(",") if x]
    res = dd_onnx.export_onnx(unet, a.out, name=name, description=desc, sample_rate=sr, window_length=window,
                              hierarchical_groupnorm=not a.plain_groupnorm, verify=not a.no_verify,
                              parity_lengths=lengths)
    ver = res.pop("verification", None)
    print(json.dumps(res, indent=2))
    if ver:
        print(json.dumps(ver, indent=2))
    if a.fp16:
        import convert_fp16

        convert_fp16.convert(a.out)
        if not a.no_verify:
            convert_fp16.check(a.out, window)
    return 0


if __name__ == "__main__":
    sys.exit(main())
