"""VST3 in a second host: Spotify's pedalboard (JUCE) loads the bundle headless.

pedalboard gives the plugin a transport that is not playing (tempo 120, 4/4, position 0) and
activates it in offline mode (VST3 kOffline), so: capture starts at the next block, a pending render
is waited for inside process(), and the take plays as soon as audio arrives.

Cycle: set parameters by name, raise Capture, feed a test signal block by block (reset=False), then
silence, until the take has played; read the take back from the output (where the output stops
being the input); save raw_state, load it into a fresh instance and hear the same take.
"""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

from hostlib import log, plugin_env, profile

PROFILE = profile()
RATE = 48000
BLOCK = 512
RENDER_TIMEOUT = int(os.environ.get("REDANCE_HOSTS_RENDER_TIMEOUT", "300"))
EXACT = 1e-6

try:
    import pedalboard
except ImportError:  # pragma: no cover
    pedalboard = None


def _skip_reason():
    if pedalboard is None:
        return "pedalboard is not installed (run tests/hosts/setup.sh)"
    if not (PROFILE.vst3 / "Contents" / "x86_64-linux").is_dir():
        return f"no VST3 bundle at {PROFILE.vst3} (build it: cargo xtask bundle redance --release)"
    return None


pytestmark = [
    pytest.mark.skipif(_skip_reason() is not None, reason=_skip_reason() or ""),
    pytest.mark.timeout(RENDER_TIMEOUT * 2 + 120, method="thread"),
]


@pytest.fixture(scope="module", autouse=True)
def _engine_env():
    # Redance's engine reads these when the first render starts (same process)
    old = dict(os.environ)
    os.environ.update(plugin_env())
    yield
    os.environ.clear()
    os.environ.update(old)


def _load():
    t0 = time.monotonic()
    p = pedalboard.load_plugin(str(PROFILE.vst3), plugin_name=None)
    log(f"load_plugin {time.monotonic() - t0:.2f} s")
    return p


def _set(p, name: str, value) -> None:
    """Set a parameter by the name the plugin gives it (pedalboard's attribute names are derived)."""
    for key, param in p.parameters.items():
        if param.name == name:
            if param.type is bool:
                value = bool(value)
            elif param.type is str:
                value = list(param.valid_values)[int(value)]
            setattr(p, key, value)
            return
    raise AssertionError(f"{PROFILE.name} has no parameter {name!r}: {[q.name for q in p.parameters.values()]}")


def _signal(seconds: float) -> np.ndarray:
    rng = np.random.default_rng(1234)
    t = np.arange(int(seconds * RATE)) / RATE
    left = 0.3 * np.sin(2 * np.pi * 220 * t + 0.5) + 0.05 * rng.standard_normal(t.size)
    right = 0.3 * np.sin(2 * np.pi * 330 * t + 0.25) + 0.05 * rng.standard_normal(t.size)
    return np.stack([left, right]).astype(np.float32)


def _feed(p, x: np.ndarray) -> np.ndarray:
    outs = []
    for i in range(0, x.shape[1], BLOCK):
        outs.append(p.process(x[:, i : i + BLOCK], RATE, buffer_size=BLOCK, reset=False))
    return np.concatenate(outs, axis=1)


def _until_played(p, prefix_out: np.ndarray, prefix_in: np.ndarray, deadline: float) -> tuple[np.ndarray, np.ndarray]:
    """Keep feeding silence until the output has left the input and come back to it (the take
    played through), or the deadline passes."""
    outs, ins = [prefix_out], [prefix_in]
    sil = np.zeros((2, BLOCK), np.float32)
    started = np.any(np.abs(prefix_out - prefix_in) > EXACT)
    quiet = 0
    while time.monotonic() < deadline:
        o = p.process(sil, RATE, buffer_size=BLOCK, reset=False)
        outs.append(o)
        ins.append(sil)
        if np.abs(o).max() > 0:
            started = True
            quiet = 0
        elif started:
            quiet += 1
            if quiet * BLOCK >= RATE // 2:  # half a second of silence after the take
                break
    return np.concatenate(outs, axis=1), np.concatenate(ins, axis=1)


def _take_from(out: np.ndarray, inp: np.ndarray) -> tuple[int, np.ndarray]:
    diff = np.any(np.abs(out - inp) > EXACT, axis=0)
    idx = np.nonzero(diff)[0]
    assert len(idx), "the output never departs from the input: no take was heard"
    start, end = int(idx.min()), int(idx.max()) + 1
    return start, out[:, start:end]


def _cycle(strength: float):
    """One capture -> render -> playback cycle; (plugin, take, source signal, play position)."""
    p = _load()
    for k, v in PROFILE.params.items():
        # pedalboard sets values in the plugin's display units: Redance shows Mix in percent.
        if k == "Mix" and PROFILE.name == "Redance":
            v = 100 * v
        _set(p, k, v)
    _set(p, PROFILE.strength, strength)
    _set(p, PROFILE.capture, 0)
    x = _signal(6.0)
    out0 = _feed(p, np.zeros((2, BLOCK), np.float32))  # the plugin sees Capture low first
    assert np.abs(out0).max() == 0
    _set(p, PROFILE.capture, 1)
    t0 = time.monotonic()
    out = _feed(p, x)
    out, inp = _until_played(p, out, x, t0 + RENDER_TIMEOUT)
    log(f"strength {strength}: capture + render + playback in {time.monotonic() - t0:.1f} s wall")
    start, take = _take_from(out, inp)
    log(f"strength {strength}: take heard from sample {start}, {take.shape[1]} frames "
        f"({take.shape[1] / RATE:.3f} s)")
    assert np.all(np.isfinite(take))
    return p, take, x, start


def _best_lag(y: np.ndarray, ref: np.ndarray) -> int:
    n = y.shape[1] + ref.shape[1]
    size = 1 << (n - 1).bit_length()
    c = np.fft.irfft(np.fft.rfft(y[0], size) * np.conj(np.fft.rfft(ref[0], size)), size)[: y.shape[1]]
    return int(np.argmax(c))


def test_strength_0_take_is_the_captured_source():
    _, take, x, _ = _cycle(0.0)
    n = take.shape[1]
    # capture starts at the next block after Capture rose: the first sample fed after it
    assert np.abs(take - x[:, :n]).max() < EXACT, "a strength-0 take is not the captured source itself"
    assert n in (RATE, 2 * RATE) or abs(n - RATE) <= BLOCK or abs(n - 2 * RATE) <= BLOCK, (
        f"take lasts {n} frames: neither Length=1 s nor 1 bar at 120 BPM"
    )


def test_variation_survives_raw_state_in_a_fresh_instance():
    p, take, x, _ = _cycle(0.6)
    n = take.shape[1]
    rms = float(np.sqrt(np.mean((take - x[:, :n]) ** 2)))
    log(f"rms(take - source) = {rms:.4f}, rms(take) = {float(np.sqrt(np.mean(take ** 2))):.4f}")
    assert rms > 1e-3, "a strength-0.6 take is the unchanged source"

    state = p.raw_state
    log(f"raw_state: {len(state)} bytes")
    del p
    q = _load()
    q.raw_state = state
    t0 = time.monotonic()
    out, inp = _until_played(q, np.zeros((2, 0), np.float32), np.zeros((2, 0), np.float32), t0 + RENDER_TIMEOUT)
    log(f"restored take heard after {time.monotonic() - t0:.1f} s wall, {out.shape[1]} frames fed")
    assert np.abs(out).max() > 0, "the fresh instance with the saved state plays nothing"
    lag = _best_lag(out, take)
    again = out[:, lag : lag + n]
    assert again.shape[1] == n, f"the restored take is cut short ({again.shape[1]} of {n} frames)"
    d = np.abs(again - take).max()
    assert d < EXACT, f"the restored instance plays a different take (max diff {d:g}, lag {lag})"
