"""Opt-in export tests (need torch, diffusers, onnx, onnxscript, onnxruntime; NOT part of `cargo test`).

  target/venv-models/bin/pip install pytest
  target/venv-models/bin/python -m pytest -s models/tests/test_export_parity.py

* test_hier_groupnorm_matches_groupnorm: HierGroupNorm1 == nn.GroupNorm(1, C) in PyTorch (odd lengths too).
* test_original_ckpt_conversion: a small original-layout DiffusionAttnUnet1D saved as a Lightning-style .ckpt
  converts to the same function in diffusers' layout, and exports through models/export.
* test_full_size_parity: a randomly initialised FULL-SIZE Dance Diffusion net (~221 M parameters, the
  harmonai checkpoints' architecture) exported through the same code path; ORT vs PyTorch max abs diff at
  131072 samples must be <= 1e-4. Slow on 2 CPU cores (export ~minutes, each forward ~10-20 s).
  Set REDANCE_PARITY_CONTRAST=1 to also export with stock GroupNorm and report its (larger) diff.
  Results are written to target/parity_full.json.
"""
import json
import os
import sys
import time

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("diffusers")
pytest.importorskip("onnxruntime")

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.dirname(HERE)
sys.path.insert(0, MODELS)
sys.path.insert(0, HERE)

import dd_onnx  # noqa: E402

torch.set_num_threads(int(os.environ.get("REDANCE_THREADS", "2")))
RESULTS = os.path.join(MODELS, "..", "target", "parity_full.json")


def test_hier_groupnorm_matches_groupnorm():
    torch.manual_seed(0)
    for c, length in ((16, 1000), (64, 4097), (8, 3), (32, 65536 + 17)):
        gn = torch.nn.GroupNorm(1, c)
        with torch.no_grad():
            gn.weight.normal_()
            gn.bias.normal_()
        h = dd_onnx.HierGroupNorm1(gn)
        x = torch.randn(2, c, length) * 3 + 1.5
        with torch.no_grad():
            d = (gn(x) - h(x)).abs().max().item()
        assert d < 1e-5, (c, length, d)


def test_original_ckpt_conversion(tmp_path):
    import export_checkpoint
    import original_dd

    torch.manual_seed(1)
    kw = dict(io_channels=2, depth=5, n_attn_layers=1, c_mults=[16, 32, 32, 32, 32])
    lm = original_dd.DiffusionUncond(**kw)
    with torch.no_grad():  # make GroupNorm affine params non-trivial so a mix-up would show
        for name, p in lm.named_parameters():
            if "norm" in name or name.endswith("main.1.weight") or name.endswith("main.4.weight"):
                p.add_(torch.randn_like(p) * 0.2)
        lm.diffusion_ema.load_state_dict(lm.diffusion.state_dict())
    ckpt = tmp_path / "tiny-test.ckpt"
    torch.save({"state_dict": lm.state_dict(), "global_step": 0}, ckpt)

    unet = export_checkpoint.unet_from_original(str(ckpt), 48000, 4096)
    orig = lm.diffusion_ema.eval()
    x = torch.randn(2, 2, 4096)
    t = torch.tensor([0.25, 0.8])
    with torch.no_grad():
        a = orig(x, t)
        b = unet(x, t).sample
    d = (a - b).abs().max().item()
    print(f"original vs converted diffusers: max abs diff {d:.2e}")
    assert d < 1e-5

    out = tmp_path / "exported"
    assert export_checkpoint.main([str(ckpt), "--out", str(out), "--sample-rate", "48000",
                                   "--window-length", "4096", "--parity-lengths", "4096,16384"]) == 0
    man = json.loads((out / "manifest.json").read_text())
    assert man["length_multiple"] == 2 ** 4 and man["window_length"] == 4096
    assert man["sha256"] == dd_onnx.sha256_file(str(out / "model.onnx"))
    sess = dd_onnx.ort_session(str(out / "model.onnx"))
    y = sess.run(["v"], {"audio": x.numpy(), "t": t.numpy()})[0]
    d = float(np.abs(y - a.numpy()).max())
    print(f"original (PyTorch) vs exported ONNX (ORT): max abs diff {d:.2e}")
    assert d < 1e-4


def _parity(onnx_path, ref, x, t):
    sess = dd_onnx.ort_session(onnx_path)
    t0 = time.time()
    y = sess.run(["v"], {"audio": x, "t": t})[0]
    t_ort = time.time() - t0
    return y, t_ort


def test_full_size_parity(tmp_path):
    length = 131072
    torch.manual_seed(0)
    cfg = dd_onnx.dance_config()  # maestro-150k / glitch-440k architecture
    unet = dd_onnx.build_unet(cfg).eval()
    n_params = sum(p.numel() for p in unet.parameters())
    print(f"full-size model: {n_params / 1e6:.2f} M parameters")
    assert 215e6 < n_params < 230e6
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((1, 2, length)) * 0.5).astype(np.float32)
    t = np.array([0.6], dtype=np.float32)
    t0 = time.time()
    with torch.no_grad():
        ref = unet(torch.from_numpy(x), torch.from_numpy(t)).sample.numpy()
    t_torch = time.time() - t0
    results = {"params": n_params, "length": length, "torch_forward_s": round(t_torch, 1),
               "max_abs_ref": float(np.abs(ref).max())}

    variants = [("hierarchical_groupnorm", True)]
    if os.environ.get("REDANCE_PARITY_CONTRAST"):
        variants.append(("stock_groupnorm", False))
    for label, hier in variants:
        out = tmp_path / label
        t0 = time.time()
        res = dd_onnx.export_onnx(unet, str(out), name="full-size-random", description="parity test",
                                  sample_rate=16000, window_length=65536, hierarchical_groupnorm=hier,
                                  verify=False)
        t_export = time.time() - t0
        path = str(out / "model.onnx")
        y, t_ort = _parity(path, ref, x, t)
        d = float(np.abs(y - ref).max())
        results[label] = {"max_abs_diff": d, "mean_abs_diff": float(np.abs(y - ref).mean()),
                          "export_s": round(t_export, 1), "ort_forward_s": round(t_ort, 1),
                          "onnx_mib": round(os.path.getsize(path) / 2**20, 1),
                          "length_multiple": res["length_multiple"]}
        print(f"{label}: ORT vs PyTorch max abs diff {d:.3e} (export {t_export:.0f}s, ORT {t_ort:.1f}s, "
              f"PyTorch {t_torch:.1f}s)")
        os.remove(path)
    results["onnxruntime"] = __import__("onnxruntime").__version__
    results["torch"] = torch.__version__
    results["diffusers"] = __import__("diffusers").__version__
    os.makedirs(os.path.dirname(RESULTS), exist_ok=True)
    with open(RESULTS, "w") as f:
        json.dump(results, f, indent=2)
    assert results["hierarchical_groupnorm"]["max_abs_diff"] <= 1e-4


def test_diffusers_dir_export(tmp_path):
    """A diffusers-layout repo whose unet/config.json lacks time_embedding_dim (as the harmonai/* repos were
    converted with an old diffusers) loads with the 16-feature patch and exports."""
    import export_checkpoint

    torch.manual_seed(2)
    cfg = dd_onnx.dance_config((16, 32, 32), 1, 2048, 16000)
    unet = dd_onnx.build_unet(cfg).eval()
    repo = tmp_path / "maestro-150k"
    unet.save_pretrained(str(repo / "unet"))
    conf_path = repo / "unet" / "config.json"
    conf = json.loads(conf_path.read_text())
    conf.pop("time_embedding_dim")
    conf_path.write_text(json.dumps(conf))
    out = tmp_path / "out"
    assert export_checkpoint.main([str(repo), "--out", str(out), "--parity-lengths", "2048"]) == 0
    man = json.loads((out / "manifest.json").read_text())
    assert man["sample_rate"] == 16000 and man["window_length"] == 2048 and man["name"] == "maestro-150k"
    assert man["length_multiple"] == 8 and man["min_length"] == 24
    x = np.random.default_rng(0).standard_normal((1, 2, 2048)).astype(np.float32)
    t = np.array([0.4], np.float32)
    with torch.no_grad():
        ref = unet(torch.from_numpy(x), torch.from_numpy(t)).sample.numpy()
    y = dd_onnx.ort_session(str(out / "model.onnx")).run(["v"], {"audio": x, "t": t})[0]
    assert float(np.abs(y - ref).max()) < 1e-4
