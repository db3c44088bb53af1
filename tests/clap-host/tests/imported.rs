//! A model imported with `redance model import` renders in the plugin: Redance.clap in clack-host with
//! the tiny original-layout checkpoint that cli/tests/import_e2e.rs imported (and matched against
//! PyTorch through the CLI). The plugin's take must equal `redance render` of the captured audio with
//! the same model and settings, so the plugin matches PyTorch too.
//!
//! Not part of `cargo test` (it needs the import's output): scripts/test.sh runs it right after the
//! import suite, with REDANCE_IMPORTED_MODEL (the installed folder) and REDANCE_CLI (the CLI).

use redance_clap_test::*;
use std::path::PathBuf;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(600);

fn required(var: &str) -> PathBuf {
    let p = std::env::var_os(var)
        .map(PathBuf::from)
        .unwrap_or_else(|| panic!("{var} is not set: run this through scripts/test.sh, after the import suite"));
    assert!(p.exists(), "{var}={} does not exist: run the import suite first", p.display());
    p
}

#[test]
fn an_imported_checkpoint_renders_in_the_plugin_as_in_the_cli() {
    let model = required("REDANCE_IMPORTED_MODEL");
    let cli = required("REDANCE_CLI");
    // SAFETY: before any plugin thread exists; the shared engine reads it when it first loads.
    unsafe { std::env::set_var("REDANCE_MODEL", &model) };
    let entry = entry(&bundle(TestEngine::Real));
    let (out, bar, arrived) = tones_take(&entry, 5.0, LIMIT);
    assert!(arrived, "the take did not arrive within {LIMIT:?}");

    // The same capture through the CLI.
    let model_arg = model.to_str().unwrap();
    let args = ["--model", model_arg, "--strength", "0.6", "--steps", "3", "--sampler", "ddim", "--seed", "5"];
    let (diff, moved) = take_vs_cli(&cli, &[&args[..], &["--provider", "cpu"]].concat(), &out, bar, &tones_48k);
    println!(
        "plugin take vs redance render, imported tiny checkpoint: max abs diff {diff:.2e} (take vs source {moved:.2})"
    );
    assert!(moved > 0.01, "the take is the source: nothing was rendered");
    assert!(diff < 1e-3, "the plugin's take differs from the CLI's render by {diff}");
}
