"""Shared helpers for the real-host tests: which plugin to test, its parameters, WAV reading."""

from __future__ import annotations

import os
import struct
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Profile:
    """What the harness needs to know about the plugin under test."""

    name: str  # plugin name as the host lists it
    vst3: Path  # the bundle
    # parameters set before the cycle, by the name the host shows, in the plugin's plain units
    # (toggles and enums: 0, 1, ...)
    params: dict = field(default_factory=dict)
    capture: str = "Capture"
    strength: str = "Strength"
    # Lua pattern found in the plugin's saved state (decoded VST3 chunk) once a take is rendered
    ready_pattern: str = ""


def _redance_steps() -> int:
    return int(os.environ.get("REDANCE_HOSTS_STEPS", "4"))


def profile() -> Profile:
    """The plugin under test: Redance from target/bundled (or REDANCE_VST3)."""
    name = "Redance"
    vst3 = Path(os.environ.get("REDANCE_VST3", ROOT / "target" / "bundled" / f"{name}.vst3"))
    return Profile(
        name=name,
        vst3=vst3,
        params={
            "Length": 1,
            "Steps": _redance_steps(),
            "Start on": 0,  # next bar
            "Seed": 7,
            "Auto render": 1,
            "Mix": 1,
            "Loop": 0,
            "Mode": 0,  # variation
        },
        # the "takes" manifest names the current take once one is rendered: "current":<id>
        ready_pattern='current\\":%d',
    )


def workdir(name: str) -> Path:
    """A fresh folder for one test's files, kept after the run for inspection:
    $REDANCE_HOSTS_WORK (default target/hosts-work)/<name>."""
    base = Path(os.environ.get("REDANCE_HOSTS_WORK", ROOT / "target" / "hosts-work"))
    d = base / name
    if d.exists():
        import shutil

        shutil.rmtree(d)
    d.mkdir(parents=True)
    return d


def plugin_env(base: dict | None = None) -> dict:
    """Environment for a host process: the ONNX Runtime fetched into this checkout, unless set.
    (The model: Redance's built-in one unless REDANCE_MODEL is set.)"""
    env = dict(os.environ if base is None else base)
    ort = ROOT / "target" / "onnxruntime" / "cpu"
    if not env.get("ORT_DYLIB_PATH") and (ort / "libonnxruntime.so").exists():
        env["ORT_DYLIB_PATH"] = str(ort / "libonnxruntime.so")
    return env


def log(msg: str) -> None:
    print(f"[hosts] {msg}", file=sys.stderr, flush=True)


def read_wav(path: str | os.PathLike) -> tuple[np.ndarray, int]:
    """(channels x frames float64, rate) for PCM 16/24/32 and IEEE float 32/64, plain or extensible."""
    data = Path(path).read_bytes()
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError(f"{path}: not a RIFF/WAVE file")
    pos, fmt, payload = 12, None, None
    while pos + 8 <= len(data):
        cid, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        body = data[pos + 8 : pos + 8 + size]
        if cid == b"fmt ":
            tag, ch, rate, _, _, bits = struct.unpack("<HHIIHH", body[:16])
            if tag == 0xFFFE and len(body) >= 26:
                tag = struct.unpack("<H", body[24:26])[0]
            fmt = (tag, ch, rate, bits)
        elif cid == b"data":
            # a writer killed before patching the header leaves size 0 or too large: take the rest
            payload = data[pos + 8 :] if size == 0 or pos + 8 + size > len(data) else body
            break
        pos += 8 + size + (size & 1)
    if fmt is None or payload is None:
        raise ValueError(f"{path}: no fmt or data chunk")
    tag, ch, rate, bits = fmt
    width = bits // 8
    payload = payload[: len(payload) - len(payload) % (width * ch)]
    if tag == 3 and bits in (32, 64):
        x = np.frombuffer(payload, dtype="<f4" if bits == 32 else "<f8").astype(np.float64)
    elif tag == 1 and bits == 16:
        x = np.frombuffer(payload, dtype="<i2") / 32768.0
    elif tag == 1 and bits == 32:
        x = np.frombuffer(payload, dtype="<i4") / 2147483648.0
    elif tag == 1 and bits == 24:
        b = np.frombuffer(payload, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        v = np.where(v >= 1 << 23, v - (1 << 24), v)
        x = v / 8388608.0
    else:
        raise ValueError(f"{path}: unsupported WAV format tag {tag}, {bits} bits")
    return x.reshape(-1, ch).T.copy(), rate
