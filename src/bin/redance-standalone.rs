//! Redance as a standalone application (nice-plug's wrapper): `--backend dummy` runs it with no
//! sound card, which the editor's screenshot test (tests/editor/run.sh) uses.

fn main() {
    nice_plug::nice_export_standalone::<redance::Redance>();
}
