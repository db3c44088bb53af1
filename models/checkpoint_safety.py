#!/usr/bin/env python3
"""A checkpoint a user brings is untrusted: look inside its pickles before anything unpickles them.

A `.ckpt` is a pickle (in a zip, or the legacy stream). Unpickling can call any function the file names
(`os.system`, `builtins.exec`, ...). `scan` reads the pickle opcodes with the standard library alone
(no torch, nothing executed) and lists every global the file would import; `check` refuses the file,
with a message, when one is outside ALLOWED: tensor rebuilding, storages, and plain containers
and values Lightning checkpoints carry. `load` then loads with `torch.load(weights_only=True)`,
allow-listing only those same plain types.

  python3 models/checkpoint_safety.py FILE      # exit 0: safe to load; 2: refused, says why
"""
from __future__ import annotations

import io
import pickletools
import sys
import zipfile

# (module, name) pairs a checkpoint may name; names ending in "Storage" under torch are allowed too.
ALLOWED = {
    ("collections", "OrderedDict"),
    ("torch._utils", "_rebuild_tensor_v2"),
    ("torch._utils", "_rebuild_tensor"),
    ("torch._utils", "_rebuild_parameter"),
    ("torch._utils", "_rebuild_parameter_with_state"),
    ("torch._utils", "_rebuild_device_tensor_from_numpy"),
    ("torch", "device"),
    ("torch", "Size"),
    ("torch", "float32"), ("torch", "float16"), ("torch", "bfloat16"), ("torch", "float64"),
    ("torch", "int64"), ("torch", "int32"), ("torch", "bool"),
    ("torch.torch_version", "TorchVersion"),
    ("argparse", "Namespace"),
    ("pathlib", "PosixPath"), ("pathlib", "WindowsPath"), ("pathlib", "PurePosixPath"),
    ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    ("numpy", "dtype"), ("_codecs", "encode"),
    ("builtins", "set"), ("builtins", "frozenset"), ("builtins", "slice"),
}


class UnsafeCheckpoint(ValueError):
    pass


def _allowed(module: str, name: str) -> bool:
    if (module, name) in ALLOWED:
        return True
    if module == "torch" and name.endswith("Storage"):
        return True
    return module == "numpy.dtypes" and name.endswith("DType")


def _pickles(path):
    """The raw pickle byte strings inside a checkpoint file."""
    with open(path, "rb") as f:
        head = f.read(4)
    if head[:2] == b"PK":
        with zipfile.ZipFile(path) as z:
            return [z.read(n) for n in z.namelist() if n.endswith(".pkl")]
    with open(path, "rb") as f:
        data = f.read()
    out, pos = [], 0
    while pos < len(data):  # the legacy format: several pickles back to back, then raw storage bytes
        buf = io.BytesIO(data[pos:])
        try:
            end = None
            for op, _arg, at in pickletools.genops(buf):
                if op.name == "STOP":
                    end = at + 1
                    break
        except Exception:
            break
        if end is None:
            break
        out.append(data[pos:pos + end])
        pos += end
    return out


def scan(path):
    """Every (module, name) global the checkpoint's pickles import. Raises UnsafeCheckpoint if unreadable."""
    try:
        blobs = _pickles(path)
    except (OSError, zipfile.BadZipFile) as e:
        raise UnsafeCheckpoint(f"{path}: not a readable checkpoint ({e})") from None
    if not blobs:
        raise UnsafeCheckpoint(f"{path}: not a PyTorch checkpoint (no pickle inside)")
    found = []
    for blob in blobs:
        memo, stack = {}, []
        try:
            for op, arg, _ in pickletools.genops(io.BytesIO(blob)):
                if op.name == "GLOBAL":
                    module, name = arg.split(" ", 1)
                    found.append((module, name))
                    stack.append(None)
                elif op.name == "STACK_GLOBAL":
                    name, module = (stack.pop() if stack else None), (stack.pop() if stack else None)
                    if not isinstance(module, str) or not isinstance(name, str):
                        found.append(("?", "a global whose name is computed"))
                    else:
                        found.append((module, name))
                    stack.append(None)
                elif op.name in ("SHORT_BINUNICODE", "BINUNICODE", "UNICODE", "BINUNICODE8", "SHORT_BINSTRING",
                                 "BINSTRING", "STRING"):
                    stack.append(arg)
                elif op.name == "MEMOIZE":
                    memo[len(memo)] = stack[-1] if stack else None
                elif op.name in ("PUT", "BINPUT", "LONG_BINPUT"):
                    memo[arg] = stack[-1] if stack else None
                elif op.name in ("GET", "BINGET", "LONG_BINGET"):
                    stack.append(memo.get(arg))
                else:  # only strings matter: anything else stands on the stack as unknown
                    stack.append(None)
        except Exception as e:
            raise UnsafeCheckpoint(f"{path}: damaged pickle ({e})") from None
    return found


def check(path):
    """Refuse a checkpoint that names anything but tensors and plain data."""
    bad = sorted({f"{m}.{n}" for m, n in scan(path) if not _allowed(m, n)})
    if bad:
        raise UnsafeCheckpoint(
            f"{path}: refused: loading it would run code it names ({', '.join(bad[:5])}"
            f"{', ...' if len(bad) > 5 else ''}). Redance loads only tensors and plain data from checkpoints; "
            "if you trust this file, re-save its state_dict with torch.save(ckpt['state_dict'], 'clean.ckpt').")


def load(path):
    """check, then torch.load(weights_only=True) allowing only the plain types in ALLOWED."""
    import argparse
    import pathlib

    import torch

    check(path)
    extra = [argparse.Namespace, pathlib.PosixPath, pathlib.WindowsPath, pathlib.PurePosixPath, set, frozenset, slice]
    try:
        import numpy as np

        extra += [np.dtype]
        scalar = getattr(getattr(np, "_core", None), "multiarray", None) or np.core.multiarray
        extra.append(scalar.scalar)
    except Exception:
        pass
    try:
        with torch.serialization.safe_globals(extra):
            return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise UnsafeCheckpoint(f"{path}: refused by PyTorch's safe loader ({str(e).splitlines()[0]})") from None


def main(argv):
    if len(argv) != 1:
        print(__doc__)
        return 2
    try:
        check(argv[0])
    except UnsafeCheckpoint as e:
        print(e, file=sys.stderr)
        return 2
    print(f"{argv[0]}: only tensors and plain data")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
