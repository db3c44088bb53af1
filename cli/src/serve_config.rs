//! `redance model serve-config NAME --out REPO`: a Triton model repository entry for a model.

use crate::args::{ServeConfigArgs, TritonBackendArg};
use redance_engine::backend::remote::repository::{RepositoryOptions, TritonBackend, write_repository};
use redance_engine::{EngineError, ModelSource};
use std::path::Path;

/// Writes `REPO/MODEL-NAME/` and prints how to serve it.
pub fn run(args: &ServeConfigArgs) -> Result<(), EngineError> {
    let source = match args.name.as_str() {
        "default" => ModelSource::Embedded,
        name => crate::model::resolve(Path::new(name)),
    };
    let options = RepositoryOptions {
        backend: match args.backend {
            TritonBackendArg::Onnxruntime => TritonBackend::OnnxRuntime,
            TritonBackendArg::Python => TritonBackend::Python,
        },
        gpu: !args.cpu,
        instances: args.instances,
        max_batch: args.max_batch,
        max_queue_delay_us: (!args.no_dynamic_batching).then_some(args.queue_delay_us),
    };
    let dir = write_repository(&source, &args.out, &options)?;
    println!("wrote {}", dir.display());
    println!(
        "serve it: tritonserver --model-repository {} (then render with --server http://HOST:8000)",
        args.out.display()
    );
    Ok(())
}
