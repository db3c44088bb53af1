//! `cargo xtask bundle redance --release` (nice-plug's bundler) and `cargo xtask fetch-ort [--gpu]`.

mod fetch_ort;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("fetch-ort") => fetch_ort::run(&args[1..]),
        Some("bundle") => {
            nice_plug_xtask::main_with_args("xtask", args.clone())?;
            fetch_ort::copy_into_bundles()
        }
        _ => Ok(nice_plug_xtask::main_with_args("xtask", args)?),
    }
}
