#!/usr/bin/env python3
"""The default model's training and evaluation corpus: recorded instruments, rendered from packages.

Sources (nothing downloaded at run time; every item is made again from its index and the seed):
  * FluidR3 GM (Debian `fluid-soundfont-gm`: sampled pianos, guitars, strings, brass, winds, basses,
    organs, synths, percussion), played by FluidSynth (Debian `fluidsynth`) from MIDI files written here;
  * the scores of music21's corpus (PyPI `music21`): each part gets a GM program, and the piece a tempo,
    transposition, velocities, stereo placement, chorus and reverb;
  * Hydrogen's recorded drum kits (Debian `hydrogen-drumkits`), sequenced into grooves at varied tempi;
  * mixes (drums + bass + chords + lead) and single instruments.

Held out, never trained on: every piece whose path hashes to 0 mod 10, the GM programs in
HELD_OUT_PROGRAMS and the kits in HELD_OUT_KITS. The evaluation clips (OUT/eval/*.wav) are made only
of those.

  python models/corpus.py --out target/corpus --minutes 60 --jobs 2   # train/*.flac + eval/*.wav
  python models/corpus.py --out target/corpus --eval-only

OUT/train/NNNNNN.flac: 48 kHz stereo 16-bit items of ~12 s, OUT/index.json: what each item is. A second
run keeps the items already there and adds the missing ones (so --minutes can grow across sessions).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from functools import lru_cache
from multiprocessing import Pool

import numpy as np
import soundfile as sf
from scipy import signal

SR = 48000
SOUNDFONT = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
KITS_DIR = "/usr/share/hydrogen/data/drumkits"
ITEM_SECONDS = 12.0
EVAL_FRAMES = 131072  # two model windows: every evaluation render crosses a crossfade

# GM programs (0-based) by role. The held-out ones are one of each family a musician would bring first.
HELD_OUT_PROGRAMS = {0: "acoustic grand piano", 25: "steel-string guitar", 33: "finger bass", 40: "violin",
                     56: "trumpet", 73: "flute"}
HELD_OUT_KITS = ("ColomboAcousticDrumkit", "Millo_MultiLayered3")
KEYS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 16, 17, 18, 19, 20, 21, 46]
GUITARS = [24, 26, 27, 28, 29, 30, 31, 104, 105]
BASSES = [32, 34, 35, 36, 37, 38, 39, 42, 43, 58, 70]
MELODIC = [41, 42, 44, 45, 48, 49, 50, 51, 52, 57, 60, 61, 64, 65, 66, 67, 68, 69, 71, 72, 74, 75, 77, 78, 79,
           80, 81, 82, 83, 85, 87, 88, 89, 90, 91, 92, 94, 95, 11, 12, 13, 22, 23]
POLY_SOLO = [1, 2, 4, 5, 6, 16, 19, 24, 26, 46, 48, 49, 88, 89]


# --------------------------------------------------------------------------- scores -> MIDI -> FluidSynth

def is_held_out_piece(path: str) -> bool:
    return int(hashlib.sha1(os.path.basename(str(path)).encode()).hexdigest(), 16) % 10 == 0


@lru_cache(maxsize=1)
def score_paths():
    from music21 import corpus

    paths = sorted(str(p) for p in corpus.getPaths() if str(p).endswith((".mxl", ".xml", ".krn", ".musicxml")))
    return [p for p in paths if not is_held_out_piece(p)], [p for p in paths if is_held_out_piece(p)]


def parse_parts(path: str, max_parts: int = 6):
    """[(notes, mean_pitch)] per part; notes = [(onset_q, dur_q, [midi pitches], velocity)]."""
    from music21 import converter, stream

    s = converter.parse(path)
    if isinstance(s, stream.Opus):
        s = s.scores[0]
    parts = []
    for p in list(s.parts)[:max_parts]:
        notes = []
        for n in p.flatten().notes:
            pitches = [x.midi for x in getattr(n, "pitches", [])]
            if not pitches:
                continue
            dur = float(n.quarterLength) or 0.25
            vel = n.volume.velocity if n.volume is not None and n.volume.velocity else None
            notes.append((float(n.offset), dur, pitches, vel))
        if notes:
            parts.append((notes, float(np.mean([q for _, _, ps, _ in notes for q in ps]))))
    return parts


def excerpt(parts, rng, beats):
    """A random window of `beats` quarter notes where something plays, shifted to start at 0."""
    onsets = sorted({n[0] for notes, _ in parts for n in notes})
    end = max(n[0] + n[1] for notes, _ in parts for n in notes)
    starts = [o for o in onsets if o <= max(0.0, end - beats)] or [0.0]
    s = float(rng.choice(starts))
    out = []
    for notes, mean in parts:
        sel = [(o - s, min(d, s + beats - o), ps, v) for o, d, ps, v in notes if s <= o < s + beats]
        if sel:
            out.append((sel, mean))
    return out


def write_midi(path, tracks, bpm, rng, drums=None):
    """tracks: [dict(program, notes, pan, reverb, chorus, volume, strum)]; notes in quarter notes."""
    import mido

    tpb = 480
    mid = mido.MidiFile(ticks_per_beat=tpb)
    meta = mido.MidiTrack()
    meta.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm), time=0))
    mid.tracks.append(meta)
    jitter = 0.010 * bpm / 60.0 * tpb  # ±10 ms of human timing, in ticks
    chans = [c for c in range(16) if c != 9]
    for i, tr in enumerate(tracks):
        ch = 9 if tr.get("drum") else chans[i % len(chans)]
        events = [(0, mido.Message("program_change", channel=ch, program=tr["program"], time=0))]
        for cc, val in ((7, tr["volume"]), (10, tr["pan"]), (91, tr["reverb"]), (93, tr["chorus"])):
            events.append((0, mido.Message("control_change", channel=ch, control=cc, value=int(val), time=0)))
        for onset, dur, pitches, vel in tr["notes"]:
            for k, p in enumerate(sorted(pitches)):
                t0 = onset * tpb + rng.normal(0, jitter / 3) + k * tr.get("strum", 0.0) * bpm / 60.0 * tpb
                t1 = (onset + max(dur, 0.05)) * tpb
                t0 = max(0, int(t0))
                t1 = max(t0 + 1, int(t1))
                v = int(np.clip((vel or tr["velocity"]) + rng.normal(0, 6), 20, 127))
                events.append((t0, mido.Message("note_on", channel=ch, note=int(p), velocity=v, time=0)))
                events.append((t1, mido.Message("note_off", channel=ch, note=int(p), velocity=0, time=0)))
        events.sort(key=lambda e: (e[0], e[1].type == "note_on"))
        track, now = mido.MidiTrack(), 0
        for t, msg in events:
            track.append(msg.copy(time=t - now))
            now = t
        mid.tracks.append(track)
    mid.save(path)


def fluidsynth_render(mid_path, seconds):
    with tempfile.TemporaryDirectory() as d:
        wav = os.path.join(d, "out.wav")
        subprocess.run(["fluidsynth", "-ni", "-q", "-F", wav, "-T", "wav", "-O", "float", "-r", str(SR), "-g", "0.4",
                        SOUNDFONT, mid_path], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        x, sr = sf.read(wav, dtype="float32", always_2d=True)
    assert sr == SR
    x = x.T
    n = int(seconds * SR)
    if x.shape[1] < n:
        x = np.pad(x, ((0, 0), (0, n - x.shape[1])))
    return x[:, :n]


def fit_range(pitches, lo, hi):
    """Octave-shift a part so its mean sits inside [lo, hi]."""
    m = np.mean(pitches)
    shift = 0
    while m + shift > hi:
        shift -= 12
    while m + shift < lo:
        shift += 12
    return shift


def render_piece(rng, parts, seconds, programs, strum_programs=GUITARS):
    """Render an excerpt of a parsed score (parse_parts) with the given programs; returns (audio, meta)."""
    bpm = float(rng.uniform(60, 160))
    beats = seconds * bpm / 60.0
    parts = excerpt(parts, rng, beats)
    if not parts:
        raise ValueError("empty excerpt")
    transpose = int(rng.integers(-5, 6))
    parts.sort(key=lambda p: p[1])  # lowest first: the bass
    tracks = []
    reverb = int(rng.integers(0, 90))
    chorus = int(rng.integers(0, 60))
    for i, (notes, mean) in enumerate(parts):
        prog = programs[i] if i < len(programs) else programs[-1]
        lo, hi = (33, 50) if prog in BASSES or prog == 33 else (50, 80)
        shift = transpose + fit_range([mean], lo, hi)
        notes = [(o, d, [min(108, max(21, p + shift)) for p in ps], v) for o, d, ps, v in notes]
        tracks.append(dict(program=prog, notes=notes, pan=int(np.clip(64 + rng.normal(0, 30), 0, 127)),
                           reverb=int(np.clip(reverb + rng.integers(-10, 10), 0, 127)), chorus=chorus, volume=int(rng.integers(80, 120)),
                           velocity=int(rng.integers(50, 115)),
                           strum=float(rng.uniform(0.008, 0.025)) if prog in strum_programs else 0.0))
    with tempfile.TemporaryDirectory() as d:
        mid = os.path.join(d, "piece.mid")
        write_midi(mid, tracks, bpm, rng)
        audio = fluidsynth_render(mid, seconds)
    return audio, dict(bpm=round(bpm, 1), transpose=transpose, programs=[t["program"] for t in tracks])


# --------------------------------------------------------------------------- Hydrogen drum kits

ROLES = {
    "kick": ("kick", "bass drum", "bassdrum", "bd", "kik", "bass"),
    "snare": ("snare", "sd", "rim"),
    "clap": ("clap",),
    "hat_open": ("open", "ohh", "op"),
    "hat": ("hat", "hh", "chh"),
    "ride": ("ride",),
    "crash": ("crash", "splash", "china", "cym"),
    "tom": ("tom",),
}


def role_of(name):
    low = name.lower().replace("_", " ").replace("-", " ")
    words = low.split()
    for role in ("hat_open", "hat", "ride", "crash", "tom", "clap", "snare", "kick"):
        for key in ROLES[role]:
            if (" " in key and key in low) or key in words or (len(key) > 3 and key in low):
                if role == "hat_open" and not any(k in low for k in ("hat", "hh")):
                    continue
                return role
    return "perc"


@lru_cache(maxsize=None)
def load_kit(name):
    """{role: [instrument]}, instrument = dict(layers=[(lo, hi, gain, audio [2, n])], gain, pan)."""
    root = os.path.join(KITS_DIR, name)
    tree = ET.parse(os.path.join(root, "drumkit.xml"))
    for el in tree.iter():  # newer kits put everything in Hydrogen's XML namespace
        el.tag = el.tag.rsplit("}", 1)[-1]
    kit = {}

    def text(el, tag, default):
        f = el.find(tag)
        return f.text if f is not None and f.text else default

    for inst in tree.getroot().iter("instrument"):
        nm = text(inst, "name", "")
        layers = []
        for lay in inst.iter("layer"):
            fn = text(lay, "filename", None)
            if not fn or not os.path.exists(os.path.join(root, fn)):
                continue
            a = load_sample(os.path.join(root, fn))
            layers.append((float(text(lay, "min", 0)), float(text(lay, "max", 1)), float(text(lay, "gain", 1)), a))
        fn = text(inst, "filename", None)  # old kits: one sample per instrument
        if not layers and fn and os.path.exists(os.path.join(root, fn)):
            layers.append((0.0, 1.0, 1.0, load_sample(os.path.join(root, fn))))
        if not layers:
            continue
        pan = float(text(inst, "pan_R", 1)) - float(text(inst, "pan_L", 1))
        kit.setdefault(role_of(nm), []).append(dict(name=nm, layers=layers, gain=float(text(inst, "gain", 1)), pan=pan))
    return kit


def load_sample(path):
    x, sr = sf.read(path, dtype="float32", always_2d=True)
    x = x.T
    if sr != SR:
        g = np.gcd(sr, SR)
        x = signal.resample_poly(x, SR // g, sr // g, axis=1).astype(np.float32)
    if x.shape[0] == 1:
        x = np.repeat(x, 2, axis=0)
    return x[:2, : 4 * SR]


def kit_names():
    names = sorted(d for d in os.listdir(KITS_DIR) if os.path.exists(os.path.join(KITS_DIR, d, "drumkit.xml")))
    return [n for n in names if n not in HELD_OUT_KITS], [n for n in names if n in HELD_OUT_KITS]


def hit(out, inst, at, vel, rng):
    layers = [lay for lay in inst["layers"] if lay[0] <= vel <= lay[1]] or inst["layers"]
    lo, hi, g, a = layers[int(rng.integers(len(layers)))]
    if at >= out.shape[1]:
        return
    a = a[:, : out.shape[1] - at] * (g * inst["gain"] * (0.25 + 0.75 * vel))
    p = np.clip(inst["pan"] + rng.normal(0, 0.05), -1, 1)
    out[0, at:at + a.shape[1]] += a[0] * np.sqrt((1 - p) / 2) * np.sqrt(2)
    out[1, at:at + a.shape[1]] += a[1] * np.sqrt((1 + p) / 2) * np.sqrt(2)


def groove(rng, kit_name, bpm, seconds):
    """A drum groove: 16th grid, backbeat or half-time, hats or ride, ghost notes, fills, swing."""
    kit = load_kit(kit_name)
    n = int(seconds * SR)
    out = np.zeros((2, n), np.float32)
    six = 60.0 / bpm / 4 * SR
    swing = rng.uniform(0, 0.3)
    half = rng.random() < 0.25
    cymbal = "ride" if ("ride" in kit and rng.random() < 0.3) else "hat"
    hat_div = int(rng.choice([1, 2, 2, 4]))  # hats every 16th / 8th / quarter
    kick_pat = [1.0] + [0.0] * 15
    for k in range(2, 16, 2):
        kick_pat[k] = rng.choice([0, 0, 0.6, 0.9]) if k not in (4, 12) else rng.choice([0, 0, 0.4])
    for step in range(int(seconds * bpm / 60 * 4) + 1):
        at = step * six + (swing * six if step % 2 else 0) + rng.normal(0, 0.003 * SR)
        at = max(0, int(at))
        s16 = step % 16
        bar_end = step % 64 >= 60

        def play(role, vel):
            insts = kit.get(role) or ([] if role in ("kick", "snare", "hat") else kit.get("perc"))
            if not insts:
                insts = [v for vs in kit.values() for v in vs]
            hit(out, insts[int(rng.integers(len(insts)))], at, float(np.clip(vel + rng.normal(0, 0.05), 0, 1)), rng)

        if bar_end and rng.random() < 0.6 and "tom" in kit:
            play("tom", rng.uniform(0.5, 1.0))
            continue
        if rng.random() < kick_pat[s16]:
            play("kick", rng.uniform(0.7, 1.0))
        if (s16 == 8 if half else s16 in (4, 12)):
            play("snare" if "snare" in kit else "clap", rng.uniform(0.75, 1.0))
        elif rng.random() < 0.08:
            play("snare", rng.uniform(0.15, 0.4))  # ghost note
        if s16 % hat_div == 0:
            if cymbal == "hat" and "hat_open" in kit and s16 == 14 and rng.random() < 0.3:
                play("hat_open", 0.7)
            else:
                play(cymbal, (0.8 if s16 % 4 == 0 else 0.5) + rng.uniform(-0.1, 0.1))
        if step % 64 == 0 and "crash" in kit and rng.random() < 0.4:
            play("crash", rng.uniform(0.6, 1.0))
        if "perc" in kit and rng.random() < 0.05:
            play("perc", rng.uniform(0.3, 0.9))
    return out


# --------------------------------------------------------------------------- items

def normalise(x, rng):
    x = x - x.mean(axis=1, keepdims=True)
    rms = float(np.sqrt(np.mean(x ** 2))) + 1e-9
    x = x * (10 ** (rng.uniform(-28, -14) / 20) / rms)
    peak = float(np.abs(x).max())
    return (x / peak * 0.98 if peak > 0.98 else x).astype(np.float32)


def pick_programs(rng, nparts, pool_extra=()):
    progs = [int(rng.choice(BASSES))]
    chords = int(rng.choice(KEYS + GUITARS))
    for i in range(1, nparts):
        progs.append(chords if i < nparts - 1 else int(rng.choice(MELODIC + list(pool_extra))))
    return progs


def make_item(args):
    index, seed, out_dir = args
    path = os.path.join(out_dir, "train", f"{index:06d}.flac")
    if os.path.exists(path):
        return index, None
    rng = np.random.default_rng([seed, index])
    train_scores, _ = score_paths()
    train_kits, _ = kit_names()
    kind = str(rng.choice(["ensemble", "solo", "drums", "mix", "mix"]))
    meta = dict(kind=kind)
    for attempt in range(8):
        try:
            if kind in ("ensemble", "mix", "solo"):
                score = train_scores[int(rng.integers(len(train_scores)))]
                if kind == "solo":
                    progs = [int(rng.choice(POLY_SOLO + MELODIC + BASSES))] * 6
                else:
                    progs = pick_programs(rng, 6)
                audio, m = render_piece(rng, parse_parts(score), ITEM_SECONDS, progs)
                meta.update(m, score=os.path.basename(score))
                if kind == "mix":
                    kit = train_kits[int(rng.integers(len(train_kits)))]
                    d = groove(rng, kit, m["bpm"], ITEM_SECONDS)
                    d = d * (np.sqrt(np.mean(audio ** 2)) / (np.sqrt(np.mean(d ** 2)) + 1e-9)) * 10 ** (rng.uniform(-6, 6) / 20)
                    audio = audio + d
                    meta["kit"] = kit
            else:
                kit = train_kits[int(rng.integers(len(train_kits)))]
                bpm = float(rng.uniform(70, 175))
                audio = groove(rng, kit, bpm, ITEM_SECONDS)
                meta.update(kit=kit, bpm=round(bpm, 1))
            if np.sqrt(np.mean(audio ** 2)) < 1e-5:
                raise ValueError("silent")
            break
        except Exception as e:  # a score music21 cannot parse, an empty excerpt: draw again
            meta["retries"] = attempt + 1
            meta["last_error"] = str(e)[:200]
    else:
        print(f"corpus: item {index} skipped: {meta.get('last_error')}", flush=True)
        return index, None
    audio = normalise(audio, rng)
    tmp = path + ".partial"
    sf.write(tmp, audio.T, SR, subtype="PCM_16", format="FLAC")
    os.replace(tmp, path)
    return index, meta


# --------------------------------------------------------------------------- evaluation clips (held out)

def eval_clips(out_dir, seed=20261130):
    """Held-out clips: held-out pieces on held-out programs, held-out kits; EVAL_FRAMES each, float32 WAV."""
    os.makedirs(os.path.join(out_dir, "eval"), exist_ok=True)
    _, held_scores = score_paths()
    _, held_kits = kit_names()
    secs = EVAL_FRAMES / SR + 0.5
    specs = [
        ("piano", dict(programs=[0] * 6)),
        ("guitar-chords", dict(programs=[25] * 6)),
        ("bass", dict(programs=[33], parts="low")),
        ("violin", dict(programs=[40], parts="high")),
        ("trumpet", dict(programs=[56], parts="high")),
        ("flute", dict(programs=[73], parts="high")),
        ("drums-acoustic", dict(kit=held_kits[0], bpm=96)),
        ("drums-layered", dict(kit=held_kits[-1], bpm=132)),
        ("band-mix", dict(programs=[33, 0, 25, 56], kit=held_kits[0])),
    ]
    made = {}
    for k, (name, spec) in enumerate(specs):
        rng = np.random.default_rng([seed, k])
        for attempt in range(20):
            try:
                if "programs" in spec:
                    score = held_scores[int(rng.integers(len(held_scores)))]
                    parts = parse_parts(score)
                    if spec.get("parts") == "low":
                        parts = sorted(parts, key=lambda p: p[1])[:1]
                    elif spec.get("parts") == "high":
                        parts = sorted(parts, key=lambda p: p[1])[-1:]
                    if not parts:
                        raise ValueError("no parts")
                    audio, meta = render_piece(rng, parts, secs, spec["programs"])
                    meta["score"] = os.path.basename(score)
                    if "kit" in spec:
                        d = groove(rng, spec["kit"], meta["bpm"], secs)
                        audio = audio + d * (np.sqrt(np.mean(audio ** 2)) / (np.sqrt(np.mean(d ** 2)) + 1e-9))
                        meta["kit"] = spec["kit"]
                else:
                    audio = groove(rng, spec["kit"], spec["bpm"], secs)
                    meta = dict(kit=spec["kit"], bpm=spec["bpm"])
                audio = audio[:, :EVAL_FRAMES]
                # something must sound across the whole clip
                seg = audio.reshape(2, 8, -1)
                if np.min(np.sqrt(np.mean(seg ** 2, axis=(0, 2)))) < 1e-4:
                    raise ValueError("gaps")
                break
            except Exception as e:
                meta = dict(error=str(e)[:200])
        else:
            raise SystemExit(f"corpus: could not make the evaluation clip {name}: {meta}")
        x = audio - audio.mean(axis=1, keepdims=True)
        x = (x * (10 ** (-18 / 20) / (np.sqrt(np.mean(x ** 2)) + 1e-9))).astype(np.float32)
        x = x / max(1.0, float(np.abs(x).max()) / 0.98)
        sf.write(os.path.join(out_dir, "eval", f"{name}.wav"), x.T, SR, subtype="FLOAT")
        made[name] = meta
        print(f"eval clip {name}: {meta}", flush=True)
    with open(os.path.join(out_dir, "eval", "clips.json"), "w") as f:
        json.dump(made, f, indent=1)
    return made


# --------------------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "target", "corpus"))
    ap.add_argument("--minutes", type=float, default=60.0, help="training audio to have in OUT/train")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--eval-only", action="store_true")
    a = ap.parse_args()
    for need, what in ((SOUNDFONT, "fluid-soundfont-gm"), (KITS_DIR, "hydrogen-drumkits")):
        if not os.path.exists(need):
            raise SystemExit(f"corpus: {need} is missing: run bash models/setup.sh (Debian package {what})")
    if not shutil.which("fluidsynth"):
        raise SystemExit("corpus: fluidsynth is missing: run bash models/setup.sh")
    os.makedirs(os.path.join(a.out, "train"), exist_ok=True)
    if not os.path.exists(os.path.join(a.out, "eval", "clips.json")):
        eval_clips(a.out)
    if a.eval_only:
        return
    train_scores, held = score_paths()
    print(f"scores: {len(train_scores)} for training, {len(held)} held out; kits: {kit_names()}", flush=True)
    count = int(np.ceil(a.minutes * 60 / ITEM_SECONDS))
    ipath = os.path.join(a.out, "index.json")
    index = json.load(open(ipath)) if os.path.exists(ipath) else {}
    todo = [(i, a.seed, a.out) for i in range(count)]
    done = 0
    with Pool(a.jobs) as pool:
        for i, meta in pool.imap_unordered(make_item, todo, chunksize=4):
            if meta is not None:
                index[str(i)] = meta
            done += 1
            if done % 25 == 0 or done == count:
                print(f"items {done}/{count}", flush=True)
                with open(ipath + ".tmp", "w") as f:
                    json.dump(index, f)
                os.replace(ipath + ".tmp", ipath)
    print(f"corpus: {count} items ({count * ITEM_SECONDS / 60:.0f} min) in {a.out}/train", flush=True)


if __name__ == "__main__":
    sys.exit(main())
