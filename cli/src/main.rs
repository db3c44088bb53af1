//! `redance render …` and `redance model …`: the engine from a terminal. Errors are one line on
//! stderr and a non-zero exit; no partial output file or half-installed model is ever left behind.

mod args;
mod model;
mod plot;
mod render;
mod serve_config;

use clap::Parser;

fn main() {
    let cli = args::Cli::parse();
    let result = match cli.command {
        args::Command::Render(args) => render::run(&args).map_err(|e| e.to_string()),
        args::Command::Model(command) => model::run(command),
    };
    if let Err(e) = result {
        eprintln!("redance: error: {e}");
        std::process::exit(1);
    }
}
