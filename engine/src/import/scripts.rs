//! The Python the import runs, carried inside the binary so that an installed `redance` (or plugin)
//! imports outside the repository; written fresh into each import's work folder.

use std::path::Path;

const FILES: &[(&str, &str)] = &[
    ("import_checkpoint.py", include_str!("../../../models/import_checkpoint.py")),
    ("export_checkpoint.py", include_str!("../../../models/export_checkpoint.py")),
    ("checkpoint_safety.py", include_str!("../../../models/checkpoint_safety.py")),
    ("dd_onnx.py", include_str!("../../../models/dd_onnx.py")),
    ("convert_fp16.py", include_str!("../../../models/convert_fp16.py")),
];

/// The driver script's file name inside `dir`.
pub const DRIVER: &str = "import_checkpoint.py";

/// Writes the scripts into `dir`.
pub fn write(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for (name, text) in FILES {
        std::fs::write(dir.join(name), text)?;
    }
    Ok(())
}
