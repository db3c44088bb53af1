"""What `redance model import` runs (the CLI carries this file and its neighbours inside its binary).

  python3 import_checkpoint.py precheck SOURCE
      standard library only, no torch: is SOURCE a Dance Diffusion checkpoint, is it safe to unpickle,
      and what rate and window does it have (from the table of public checkpoints or its config).
      Prints one JSON line; exit 2 with the reason in plain words on stderr when refused.
  python import_checkpoint.py convert SOURCE --out DIR --name NAME --sample-rate HZ --window-length N
      in the import's own environment: ONNX + manifest.json + fp16 variant, checked against PyTorch.

Lines starting with "@" are for the CLI ("@phase", "@parity", "@error"); the rest is its log.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import pickletools
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import checkpoint_safety  # noqa: E402  (standard library only)
import export_checkpoint  # noqa: E402  (imports torch only inside its functions)

# Keys every original DiffusionAttnUnet1D state dict has (after an optional diffusion_ema./diffusion. prefix).
DD_KEYS = ("timestep_embed.weight", "net.0.main.0.weight")
PARITY_LIMIT = 1e-3  # relative to the reference's largest |v|; the exporter reaches ~1e-5


class Refused(Exception):
    pass


def _strings(path):
    """Every string literal in the checkpoint's pickles (its state-dict keys among them); nothing is run."""
    out = set()
    for blob in checkpoint_safety._pickles(path):
        for op, arg, _ in pickletools.genops(io.BytesIO(blob)):
            if isinstance(arg, str):
                out.add(arg)
    return out


def _precheck_file(path):
    with open(path, "rb") as f:
        head = f.read(4)
    if not (head[:2] == b"PK" or head[:1] == b"\x80"):
        raise Refused(f"{path} is not a PyTorch checkpoint (a .ckpt is a zip or pickle file; this is neither)")
    try:
        checkpoint_safety.check(path)
        strings = _strings(path)
    except checkpoint_safety.UnsafeCheckpoint as e:
        raise Refused(str(e)) from None
    except Exception as e:  # noqa: BLE001 - any parse failure means "not a checkpoint we can read"
        raise Refused(f"{path} is not a readable PyTorch checkpoint ({e})") from None
    if not all(any(s == k or s.endswith("." + k) for s in strings) for k in DD_KEYS):
        raise Refused(f"{path} is not a Dance Diffusion checkpoint: it holds no DiffusionAttnUnet1D weights "
                      "(timestep_embed, net.*). Redance imports Harmonai's audio-diffusion checkpoints "
                      "(glitch-440k, maestro-150k, ...) and diffusers Dance Diffusion folders")
    return {"kind": "harmonai-ckpt", "sample_rate": None, "window_length": None}


def _precheck_dir(path):
    cfg_dir = os.path.join(path, "unet") if os.path.isdir(os.path.join(path, "unet")) else path
    cfg_path = os.path.join(cfg_dir, "config.json")
    if not os.path.isfile(cfg_path):
        raise Refused(f"{path} is a folder without a diffusers config (unet/config.json or config.json): "
                      "not a Dance Diffusion model")
    try:
        with open(cfg_path) as f:
            cfg = json.load(f)
    except (OSError, ValueError) as e:
        raise Refused(f"{cfg_path} cannot be read ({e})") from None
    cls = cfg.get("_class_name")
    if cls != "UNet1DModel":
        raise Refused(f"{path} is not a Dance Diffusion model: its config describes a {cls or 'unknown model'}, "
                      "not a UNet1DModel")
    weights = [n for n in os.listdir(cfg_dir) if n.startswith("diffusion_pytorch_model.")]
    if not weights:
        raise Refused(f"{cfg_dir} has a config but no weights (diffusion_pytorch_model.safetensors or .bin)")
    for n in weights:
        if n.endswith(".bin"):  # a pickle too: same scan as a .ckpt
            try:
                checkpoint_safety.check(os.path.join(cfg_dir, n))
            except checkpoint_safety.UnsafeCheckpoint as e:
                raise Refused(str(e)) from None
    return {"kind": "diffusers", "sample_rate": cfg.get("sample_rate"), "window_length": cfg.get("sample_size")}


def precheck(source):
    if not os.path.exists(source):
        raise Refused(f"{source} does not exist")
    info = _precheck_dir(source) if os.path.isdir(source) else _precheck_file(source)
    known, (sr, window) = export_checkpoint.known_defaults(source)
    info["known"] = known
    info["sample_rate"] = info["sample_rate"] or sr
    info["window_length"] = info["window_length"] or window
    return info


def phase(text):
    print(f"@phase {text}", flush=True)


def convert(a):
    import torch

    import convert_fp16
    import dd_onnx

    torch.set_num_threads(a.threads)
    phase("loading the checkpoint")
    if os.path.isdir(a.source):
        unet, _ = export_checkpoint.unet_from_diffusers(a.source)
    else:
        unet = export_checkpoint.unet_from_original(a.source, a.sample_rate, a.window_length, a.weights)
    mult = dd_onnx.length_multiple_of(unet)
    if a.window_length % mult:
        raise Refused(f"the window {a.window_length} is not a multiple of {mult}, which this model needs")
    phase("converting to ONNX")
    desc = (f"Dance Diffusion '{a.name}' imported from {os.path.basename(os.path.normpath(a.source))}, "
            f"{a.sample_rate} Hz, window {a.window_length}")
    dd_onnx.export_onnx(unet, a.out, name=a.name, description=desc, sample_rate=a.sample_rate,
                        window_length=a.window_length, verify=False)
    phase("checking ONNX Runtime against PyTorch")
    onnx_path = os.path.join(a.out, "model.onnx")
    ver = dd_onnx.verify_onnx(onnx_path, unet, mult, parity_lengths=[a.parity_length or a.window_length])
    man_path = os.path.join(a.out, "manifest.json")
    with open(man_path) as f:
        man = json.load(f)
    man["min_length"] = ver["min_length"]
    with open(man_path, "w") as f:
        json.dump(man, f, indent=2)
        f.write("\n")
    for p in ver["parity"]:
        print(f"@parity {p['length']} {p['max_abs_diff']:.3e} {p['max_abs_ref']:.3e}", flush=True)
        if not p["max_abs_diff"] <= PARITY_LIMIT * max(1.0, p["max_abs_ref"]):
            raise Refused(f"ONNX Runtime and PyTorch disagree on this model (max difference {p['max_abs_diff']:.2e})")
    phase("writing the fp16 variant")
    convert_fp16.convert(a.out)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="import_checkpoint.py")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("precheck")
    p.add_argument("source")
    c = sub.add_parser("convert")
    c.add_argument("source")
    c.add_argument("--out", required=True)
    c.add_argument("--name", required=True)
    c.add_argument("--sample-rate", type=int, required=True)
    c.add_argument("--window-length", type=int, required=True)
    c.add_argument("--parity-length", type=int, default=None)
    c.add_argument("--weights", choices=["ema", "model"], default="ema")
    c.add_argument("--threads", type=int, default=max(1, min(8, os.cpu_count() or 1)))
    a = ap.parse_args(argv)
    try:
        if a.cmd == "precheck":
            print(json.dumps(precheck(a.source)))
        else:
            convert(a)
    except Refused as e:
        print(f"@error {e}", flush=True)
        print(e, file=sys.stderr)
        return 2
    except MemoryError:
        print("@error the computer ran out of memory converting this model (a full-size one needs several GB)",
              flush=True)
        return 2
    except ValueError as e:  # the mapping's own checks (not Dance Diffusion's layout, unsupported variants)
        msg = f"not a Dance Diffusion model Redance can convert: {e}"
        print(f"@error {msg}", flush=True)
        print(msg, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
