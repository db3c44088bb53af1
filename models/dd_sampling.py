"""Dance Diffusion (v-diffusion) sampling maths in plain NumPy (no torch).

Mirrors the original Dance Diffusion notebook:
  alpha(t) = cos(t*pi/2), sigma(t) = sin(t*pi/2)
  crash schedule: s = sin(t*pi/2)**2 (sic), a = sqrt(1 - s**2), t' = atan2(s, a) * 2/pi, t in linspace(0, 1, steps+1)
  variation at strength S: keep schedule points t' < S, start at the largest, DDIM (eta 0) down to 0.

`model_fn(x, t)` takes x float32 [B, 2, L] and t float32 [B] and returns v float32 [B, 2, L].
"""
from __future__ import annotations

import numpy as np


def alpha_sigma(t):
    t = np.asarray(t, dtype=np.float64)
    return np.cos(t * np.pi / 2), np.sin(t * np.pi / 2)


def crash_schedule(steps: int) -> np.ndarray:
    t = np.linspace(0.0, 1.0, steps + 1)
    s = np.sin(t * np.pi / 2) ** 2
    a = np.sqrt(1.0 - s ** 2)
    return np.arctan2(s, a) * 2.0 / np.pi


def variation_timesteps(strength: float, steps: int) -> np.ndarray:
    """Descending kept schedule points (largest first, ending with 0.0)."""
    ts = crash_schedule(steps)
    kept = ts[ts < strength]
    return np.sort(kept)[::-1].copy()


def ddim_variation(model_fn, source: np.ndarray, noise: np.ndarray, strength: float, steps: int,
                   dtype=np.float32, on_step=None) -> np.ndarray:
    """DDIM (eta 0) variation of `source` [B, 2, L] using `noise` (same shape, standard normal).

    All arithmetic between model calls is done in float32 (the same precision an engine would use);
    the scalar alpha/sigma values are computed in float64 and rounded to float32. `on_step(t, pred)`,
    if given, sees each call's clean estimate (denoise_profile.py --chain).
    """
    ts = variation_timesteps(strength, steps)
    b = source.shape[0]
    a0, s0 = alpha_sigma(ts[0])
    x = (dtype(a0) * source.astype(dtype) + dtype(s0) * noise.astype(dtype)).astype(dtype)
    pred = x
    for i in range(len(ts) - 1):
        a_i, s_i = (dtype(v) for v in alpha_sigma(ts[i]))
        a_n, s_n = (dtype(v) for v in alpha_sigma(ts[i + 1]))
        v = model_fn(x, np.full((b,), ts[i], dtype=dtype)).astype(dtype)
        pred = a_i * x - s_i * v
        if on_step:
            on_step(ts[i], pred)
        eps = s_i * x + a_i * v
        x = pred * a_n + eps * s_n
    return pred


def snr_db(reference: np.ndarray, estimate: np.ndarray) -> float:
    """10*log10(|ref|^2 / |est - ref|^2)."""
    ref = np.asarray(reference, dtype=np.float64)
    err = np.asarray(estimate, dtype=np.float64) - ref
    return float(10.0 * np.log10(np.sum(ref ** 2) / max(np.sum(err ** 2), 1e-30)))
