//! `redance render …`: the engine from a terminal. Errors are one line on stderr and a non-zero exit;
//! no partial output file is ever left behind (the WAV is written atomically at the end).

mod args;
mod plot;
mod render;

use clap::Parser;

fn main() {
    let cli = args::Cli::parse();
    let result = match cli.command {
        args::Command::Render(args) => render::run(&args),
    };
    if let Err(e) = result {
        eprintln!("redance: error: {e}");
        std::process::exit(1);
    }
}
