#!/usr/bin/env python3
"""Deterministic synthetic music generator for Redance.

Produces 48 kHz stereo float32 audio made of:
  * tones / chords (additive oscillators with harmonics, detune, vibrato, ADSR)
  * simple drum hits (kick, snare, closed/open hat)
  * filtered noise textures (band/low/high-passed noise with slow modulation)
with random stereo placement (equal-power pan plus small inter-channel delay).

Only numpy / scipy / wave are used, so this runs without torch.

Usage:
  python models/synth.py clip [--out examples/clip.wav]        # the shipped example loop
  python models/synth.py dataset --out data.npy --count 512 --length 65536 --seed 0
  python models/synth.py preview --out preview.wav --seed 1     # a few random chunks, 16-bit

Library use (train.py):
  from synth import render_chunk, make_dataset
  audio = render_chunk(np.random.default_rng(seed), 65536)   # float32 [2, n]
"""
from __future__ import annotations

import argparse
import os
import wave

import numpy as np
from scipy import signal

SR = 48000


# --------------------------------------------------------------------------- helpers

def midi_to_hz(m):
    return 440.0 * 2.0 ** ((np.asarray(m, dtype=np.float64) - 69.0) / 12.0)


def adsr(n, sr, a, d, s, r, hold):
    """ADSR envelope of n samples. a/d/r/hold in seconds, s sustain level."""
    env = np.zeros(n, dtype=np.float64)
    na, nd, nh, nr = (max(1, int(x * sr)) for x in (a, d, hold, r))
    segs = [
        np.linspace(0.0, 1.0, na, endpoint=False),
        np.linspace(1.0, s, nd, endpoint=False),
        np.full(nh, s),
        s * np.exp(-np.arange(nr) / (nr / 5.0)),
    ]
    e = np.concatenate(segs)[:n]
    env[: len(e)] = e
    return env


def pan_stereo(mono, pan, delay_samples=0):
    """Equal-power pan (pan in [-1, 1]) with an optional small inter-channel delay."""
    theta = (pan + 1.0) * np.pi / 4.0
    left = np.cos(theta) * mono
    right = np.sin(theta) * mono
    if delay_samples > 0:  # delay the far channel a little
        if pan > 0:
            left = np.concatenate([np.zeros(delay_samples), left[:-delay_samples]])
        else:
            right = np.concatenate([np.zeros(delay_samples), right[:-delay_samples]])
    return np.stack([left, right])


def place(out, event, onset, wrap=False):
    """Add a [2, m] event into out [2, n] at onset (may be negative)."""
    n = out.shape[1]
    m = event.shape[1]
    if wrap:
        idx = (onset + np.arange(m)) % n
        for c in range(out.shape[0]):
            np.add.at(out[c], idx, event[c])
        return
    s0 = max(0, onset)
    s1 = min(n, onset + m)
    if s1 > s0:
        out[:, s0:s1] += event[:, s0 - onset : s1 - onset]


# --------------------------------------------------------------------------- voices

def tone(rng, freqs, dur, sr=SR, kind=None, env=None):
    """Additive oscillator(s) for one or several frequencies (a chord)."""
    n = int(dur * sr)
    t = np.arange(n) / sr
    kind = kind or rng.choice(["sine", "saw", "square", "soft", "bell"])
    nh = {"sine": 1, "soft": 4, "saw": 12, "square": 12, "bell": 6}[kind]
    vib_rate = rng.uniform(3.0, 7.0)
    vib_depth = rng.choice([0.0, rng.uniform(0.001, 0.006)])
    out = np.zeros(n)
    for f0 in np.atleast_1d(freqs):
        for det in ([0.0] if rng.random() < 0.5 else [-0.004, 0.004]):
            f = f0 * (1.0 + det)
            phase_mod = vib_depth * f / vib_rate * np.sin(2 * np.pi * vib_rate * t)
            for h in range(1, nh + 1):
                if kind == "square" and h % 2 == 0:
                    continue
                fh = f * (h if kind != "bell" else h ** 1.37)
                if fh > sr * 0.45:
                    break
                amp = 1.0 / h if kind in ("saw", "square") else 0.6 ** (h - 1)
                hdecay = np.exp(-t * h * rng.uniform(0.5, 4.0)) if kind in ("bell", "soft") else 1.0
                out += amp * hdecay * np.sin(2 * np.pi * fh * t + h * phase_mod + rng.uniform(0, 2 * np.pi))
    if env is None:
        env = adsr(n, sr, rng.uniform(0.002, 0.08), rng.uniform(0.05, 0.4), rng.uniform(0.2, 0.9),
                   rng.uniform(0.05, 0.5), max(0.0, dur * rng.uniform(0.2, 0.7)))
    out *= env
    if kind in ("saw", "square") and rng.random() < 0.7:  # gentle low-pass "analog" tone
        b, a = signal.butter(2, min(0.95, rng.uniform(1500, 9000) / (sr / 2)))
        out = signal.lfilter(b, a, out)
    peak = np.max(np.abs(out)) + 1e-9
    return out / peak


def kick(rng, sr=SR):
    dur = rng.uniform(0.25, 0.6)
    n = int(dur * sr)
    t = np.arange(n) / sr
    f_hi, f_lo = rng.uniform(110, 220), rng.uniform(38, 60)
    sweep = f_lo + (f_hi - f_lo) * np.exp(-t * rng.uniform(25, 60))
    phase = 2 * np.pi * np.cumsum(sweep) / sr
    body = np.sin(phase) * np.exp(-t * rng.uniform(5, 14))
    click = rng.standard_normal(n) * np.exp(-t * 400) * rng.uniform(0.05, 0.3)
    x = body + click
    return x / (np.max(np.abs(x)) + 1e-9)


def snare(rng, sr=SR):
    dur = rng.uniform(0.15, 0.35)
    n = int(dur * sr)
    t = np.arange(n) / sr
    b, a = signal.butter(2, [rng.uniform(800, 2000) / (sr / 2), rng.uniform(6000, 12000) / (sr / 2)], "band")
    noise = signal.lfilter(b, a, rng.standard_normal(n)) * np.exp(-t * rng.uniform(15, 30))
    body = np.sin(2 * np.pi * rng.uniform(160, 240) * t) * np.exp(-t * rng.uniform(20, 40))
    x = noise * rng.uniform(0.6, 1.0) + body * rng.uniform(0.3, 0.8)
    return x / (np.max(np.abs(x)) + 1e-9)


def hat(rng, sr=SR, open_=None):
    open_ = rng.random() < 0.25 if open_ is None else open_
    dur = rng.uniform(0.2, 0.45) if open_ else rng.uniform(0.03, 0.09)
    n = int(dur * sr)
    t = np.arange(n) / sr
    b, a = signal.butter(3, rng.uniform(6000, 10000) / (sr / 2), "high")
    x = signal.lfilter(b, a, rng.standard_normal(n)) * np.exp(-t * (rng.uniform(8, 15) if open_ else rng.uniform(50, 90)))
    return x / (np.max(np.abs(x)) + 1e-9)


def noise_texture(rng, n, sr=SR):
    x = rng.standard_normal(n + 2048)
    kind = rng.choice(["band", "low", "high"])
    if kind == "band":
        lo = rng.uniform(100, 4000)
        hi = min(lo * rng.uniform(1.3, 4.0), sr * 0.45)
        b, a = signal.butter(2, [lo / (sr / 2), hi / (sr / 2)], "band")
    elif kind == "low":
        b, a = signal.butter(2, rng.uniform(200, 3000) / (sr / 2))
    else:
        b, a = signal.butter(2, rng.uniform(3000, 12000) / (sr / 2), "high")
    x = signal.lfilter(b, a, x)[2048:]
    t = np.arange(n) / sr
    mod = 1.0 + rng.uniform(0.0, 0.9) * np.sin(2 * np.pi * rng.uniform(0.2, 6.0) * t + rng.uniform(0, 6.3))
    x = x * mod
    return x / (np.max(np.abs(x)) + 1e-9)


CHORDS = {
    "single": [0], "power": [0, 7, 12], "maj": [0, 4, 7], "min": [0, 3, 7],
    "maj7": [0, 4, 7, 11], "min7": [0, 3, 7, 10], "dom7": [0, 4, 7, 10], "sus4": [0, 5, 7],
}


# --------------------------------------------------------------------------- chunks

def render_chunk(rng: np.random.Generator, n: int, sr: int = SR) -> np.ndarray:
    """One random training chunk: float32 [2, n], peak in [0.25, 0.95]."""
    out = np.zeros((2, n))
    layers = rng.choice(["tonal", "drums", "texture"], size=rng.integers(1, 4), p=[0.45, 0.35, 0.2])
    if len(layers) == 0:
        layers = ["tonal"]
    for layer in layers:
        gain = rng.uniform(0.3, 1.0)
        if layer == "tonal":
            n_events = rng.integers(1, 6)
            for _ in range(n_events):
                root = rng.integers(33, 86)
                chord = CHORDS[rng.choice(list(CHORDS))]
                if rng.random() < 0.3:  # inversion / spread
                    chord = [c + 12 * rng.integers(0, 2) for c in chord]
                dur = rng.uniform(0.08, 1.5)
                ev = tone(rng, midi_to_hz(root + np.array(chord)), dur, sr)
                ev = pan_stereo(ev * gain * rng.uniform(0.4, 1.0), rng.uniform(-0.9, 0.9), int(rng.integers(0, 24)))
                place(out, ev, int(rng.integers(-n // 4, n)))
        elif layer == "drums":
            bpm = rng.uniform(80, 175)
            step = int(sr * 60.0 / bpm / rng.choice([2, 4]))  # 8th or 16th grid
            offset = int(rng.integers(-step, step))
            kick_p, snare_p, hat_p = rng.uniform(0.1, 0.5), rng.uniform(0.1, 0.4), rng.uniform(0.3, 0.9)
            k, s, h = kick(rng, sr), snare(rng, sr), hat(rng, sr)  # one "kit" per chunk
            hp = rng.uniform(-0.6, 0.6)
            for i, pos in enumerate(range(offset, n, step)):
                if rng.random() < kick_p or i % 8 == 0:
                    place(out, pan_stereo(k * gain * rng.uniform(0.7, 1.0), rng.uniform(-0.1, 0.1)), pos)
                if rng.random() < snare_p:
                    place(out, pan_stereo(s * gain * rng.uniform(0.5, 0.9), rng.uniform(-0.3, 0.3)), pos)
                if rng.random() < hat_p:
                    place(out, pan_stereo(h * gain * rng.uniform(0.2, 0.6), hp, int(rng.integers(0, 16))), pos)
        else:
            mono = noise_texture(rng, n, sr) * gain * rng.uniform(0.2, 0.7)
            if rng.random() < 0.5:  # decorrelated stereo noise
                other = noise_texture(rng, n, sr) * gain * rng.uniform(0.2, 0.7)
                out += np.stack([mono, other])
            else:
                out += pan_stereo(mono, rng.uniform(-0.8, 0.8), int(rng.integers(0, 32)))
    peak = np.max(np.abs(out))
    if peak < 1e-6:
        return render_chunk(rng, n, sr)
    out *= rng.uniform(0.25, 0.95) / peak
    return out.astype(np.float32)


def make_dataset(count: int, length: int, seed: int = 0, sr: int = SR) -> np.ndarray:
    """count chunks of [2, length] float32, deterministic in seed."""
    data = np.empty((count, 2, length), dtype=np.float32)
    for i in range(count):
        data[i] = render_chunk(np.random.default_rng([seed, i]), length, sr)
    return data


# --------------------------------------------------------------------------- example clip

def render_clip(seed: int = 7, sr: int = SR, bpm: float = 120.0, bars: int = 2) -> np.ndarray:
    """A little drums + chords + bass loop (seamless: tails wrap around). float32 [2, n]."""
    rng = np.random.default_rng(seed)
    beat = 60.0 / bpm
    n = int(round(bars * 4 * beat * sr))
    out = np.zeros((2, n))
    eighth = int(beat * sr / 2)
    k, s = kick(rng, sr), snare(rng, sr)
    hc, ho = hat(rng, sr, open_=False), hat(rng, sr, open_=True)
    kick_steps = {0, 3, 4, 8, 11, 12, 14}  # per 2 bars of 8ths (16 steps)
    for i in range(bars * 8):
        pos = i * eighth
        st = i % 16
        if st in kick_steps:
            place(out, pan_stereo(k * 0.9, 0.0), pos, wrap=True)
        if st % 4 == 2:
            place(out, pan_stereo(s * 0.6, 0.05), pos, wrap=True)
        h = ho if st % 8 == 7 else hc
        place(out, pan_stereo(h * (0.28 if st % 2 else 0.2), 0.35, 12), pos, wrap=True)
    # chords: Am - F - C - G, one per half bar, with an 8th-note bass line
    prog = [(57, "min"), (53, "maj"), (48, "maj"), (55, "maj")]
    chord_len = n // len(prog)
    for j, (root, q) in enumerate(prog):
        notes = midi_to_hz(root + np.array(CHORDS[q]) + 12)
        dur = chord_len / sr
        env = adsr(int(dur * sr), sr, 0.01, 0.3, 0.55, 0.25, dur * 0.55)
        pad = tone(rng, notes, dur, sr, kind="saw", env=env)
        place(out, pan_stereo(pad * 0.22, -0.3, 8), j * chord_len, wrap=True)
        pad2 = tone(rng, notes * 2.0, dur, sr, kind="bell")
        place(out, pan_stereo(pad2 * 0.08, 0.4, 10), j * chord_len, wrap=True)
        # bass on 8ths
        for b in range(4):
            bdur = eighth / sr * 0.9
            benv = adsr(int(bdur * sr), sr, 0.003, 0.08, 0.6, 0.03, bdur * 0.5)
            bass = tone(rng, midi_to_hz(root - 12 + (12 if b == 3 else 0)), bdur, sr, kind="square", env=benv)
            place(out, pan_stereo(bass * 0.3, 0.0), j * chord_len + b * eighth, wrap=True)
    out *= 0.89 / np.max(np.abs(out))
    return out.astype(np.float32)


# --------------------------------------------------------------------------- wav io

def write_wav16(path: str, audio: np.ndarray, sr: int = SR) -> None:
    """audio float [channels, n] -> 16-bit PCM WAV."""
    pcm = np.clip(np.round(audio.T * 32767.0), -32768, 32767).astype("<i2")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with wave.open(path, "wb") as w:
        w.setnchannels(audio.shape[0])
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes(pcm.tobytes())


def read_wav(path: str):
    """Read a 16-bit PCM or 32-bit float WAV -> (float32 [channels, n], sr)."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE", "not a WAV file"
    pos, fmt, payload = 12, None, None
    while pos + 8 <= len(data):
        cid, size = data[pos:pos + 4], int.from_bytes(data[pos + 4:pos + 8], "little")
        body = data[pos + 8:pos + 8 + size]
        if cid == b"fmt ":
            fmt = body
        elif cid == b"data":
            payload = body
        pos += 8 + size + (size & 1)
    tag = int.from_bytes(fmt[0:2], "little")
    ch = int.from_bytes(fmt[2:4], "little")
    sr = int.from_bytes(fmt[4:8], "little")
    bits = int.from_bytes(fmt[14:16], "little")
    if tag == 0xFFFE:
        tag = int.from_bytes(fmt[24:26], "little")
    if tag == 3 and bits == 32:
        x = np.frombuffer(payload, dtype="<f4")
    elif tag == 1 and bits == 16:
        x = np.frombuffer(payload, dtype="<i2").astype(np.float32) / 32768.0
    else:
        raise ValueError(f"unsupported WAV format tag={tag} bits={bits}")
    return x.reshape(-1, ch).T.astype(np.float32).copy(), sr


def write_wav_f32(path: str, audio: np.ndarray, sr: int = SR) -> None:
    """audio float [channels, n] -> 32-bit IEEE float WAV (WAVE_FORMAT_IEEE_FLOAT + fact chunk)."""
    ch, n = audio.shape
    payload = np.ascontiguousarray(audio.T.astype("<f4")).tobytes()
    fmt = (
        (3).to_bytes(2, "little") + ch.to_bytes(2, "little") + sr.to_bytes(4, "little")
        + (sr * ch * 4).to_bytes(4, "little") + (ch * 4).to_bytes(2, "little") + (32).to_bytes(2, "little")
        + (0).to_bytes(2, "little")
    )
    fact = n.to_bytes(4, "little")
    body = b"WAVE" + b"fmt " + len(fmt).to_bytes(4, "little") + fmt + b"fact" + (4).to_bytes(4, "little") + fact
    body += b"data" + len(payload).to_bytes(4, "little") + payload
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "wb") as f:
        f.write(b"RIFF" + len(body).to_bytes(4, "little") + body)


# --------------------------------------------------------------------------- cli

def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("clip", help="write the shipped example loop (16-bit, 48 kHz, stereo)")
    c.add_argument("--out", default=os.path.join(here, "..", "examples", "clip.wav"))
    c.add_argument("--seed", type=int, default=7)
    d = sub.add_parser("dataset", help="write a .npy dataset [count, 2, length] float32")
    d.add_argument("--out", required=True)
    d.add_argument("--count", type=int, default=256)
    d.add_argument("--length", type=int, default=65536)
    d.add_argument("--seed", type=int, default=0)
    p = sub.add_parser("preview", help="write a few random chunks back to back as 16-bit WAV")
    p.add_argument("--out", required=True)
    p.add_argument("--count", type=int, default=8)
    p.add_argument("--length", type=int, default=65536)
    p.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    if a.cmd == "clip":
        x = render_clip(a.seed)
        write_wav16(a.out, x)
        print(f"wrote {a.out}: {x.shape[1]} frames, {x.shape[1] / SR:.3f} s, {os.path.getsize(a.out)} bytes")
    elif a.cmd == "dataset":
        x = make_dataset(a.count, a.length, a.seed)
        np.save(a.out, x)
        print(f"wrote {a.out}: {x.shape}")
    else:
        x = make_dataset(a.count, a.length, a.seed)
        write_wav16(a.out, np.concatenate(list(x), axis=1))
        print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
