//! `redance render`: builds a job from files and flags, runs it on an engine with a progress bar,
//! writes the result, prints the device and the real-time factor.

use crate::args::{ModeArg, PrecisionArg, ProviderArg, RenderArgs};
use clap::ValueEnum;
use indicatif::{ProgressBar, ProgressStyle};
use redance_engine::backend::remote::ServerOptions;
use redance_engine::model::{RuntimeSearch, SessionOptions};
use redance_engine::worker::JobEvent;
use redance_engine::{
    Audio, Engine, EngineConfig, EngineError, JobSpec, Mode, ModelSource, PrecisionChoice, ProviderChoice,
    RenderSettings, StrengthCurve,
};
use std::sync::Arc;
use std::time::Duration;

pub fn run(args: &RenderArgs) -> Result<(), EngineError> {
    let spec = build_spec(args)?;
    spec.validate()?;
    let config = EngineConfig {
        runtime: RuntimeSearch { explicit: args.ort.clone(), ..Default::default() },
        model: args.model.as_deref().map_or(ModelSource::Embedded, crate::model::resolve),
        session: SessionOptions {
            provider: match args.provider {
                ProviderArg::Auto => ProviderChoice::Auto,
                ProviderArg::Cpu => ProviderChoice::Cpu,
                ProviderArg::Cuda => ProviderChoice::Cuda,
            },
            precision: match args.precision {
                PrecisionArg::Auto => PrecisionChoice::Auto,
                PrecisionArg::Fp32 => PrecisionChoice::Fp32,
                PrecisionArg::Fp16 => PrecisionChoice::Fp16,
            },
            intra_threads: args.threads,
            allow_spinning: true,
            ..Default::default()
        },
        server: server(args)?,
    };
    let engine = Engine::new(config);
    let job = engine.submit(0, spec.clone());

    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {pos}/{len} model calls, {eta} left")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_message("loading model");
    bar.enable_steady_tick(Duration::from_millis(120));
    let finished = loop {
        match job.events.recv_timeout(Duration::from_millis(100)) {
            Ok(JobEvent::Started { device, windows, calls }) => {
                bar.set_length(calls as u64);
                bar.set_message(format!("rendering {windows} window(s) on {device}"));
            }
            Ok(JobEvent::Chunk { .. }) => {}
            Ok(JobEvent::Finished { audio, seconds, realtime_factor, device }) => {
                break (audio, seconds, realtime_factor, device);
            }
            Ok(JobEvent::Failed(e)) => {
                bar.finish_and_clear();
                return Err(e);
            }
            Ok(JobEvent::Cancelled) => {
                bar.finish_and_clear();
                return Err(EngineError::Cancelled);
            }
            Err(crossbeam_timeout) if crossbeam_timeout.is_timeout() => {}
            Err(_) => {
                bar.finish_and_clear();
                return Err(EngineError::Stopped);
            }
        }
        bar.set_position(job.progress.calls_done.load(std::sync::atomic::Ordering::Relaxed) as u64);
    };
    bar.finish_and_clear();
    let (audio, seconds, rtf, device) = finished;
    audio.write_wav(&args.output)?;
    let status = engine.status();
    // Auto quietly means "CUDA (and fp16) if there is one"; an explicit request deserves the reason
    // it was not met.
    let explicit = matches!(args.provider, ProviderArg::Cuda) || matches!(args.precision, PrecisionArg::Fp16);
    if let (Some(note), true) = (&status.provider_note, explicit) {
        eprintln!("note: {note}");
    }
    let model = status.model.map(|m| m.name).unwrap_or_default();
    if let Some(plot) = &args.plot {
        let (source, result) = plot_titles(args, &model);
        crate::plot::draw(&[(&source, &spec.source), (&result, &audio)], plot)?;
        println!("plot: {}", plot.display());
    }
    println!(
        "wrote {} ({:.2} s, {} Hz, {} ch)",
        args.output.display(),
        audio.duration_s(),
        audio.sample_rate,
        audio.num_channels()
    );
    println!(
        "model {model} on {device}: {:.2} s of audio in {seconds:.2} s, real-time factor {rtf:.2}x",
        audio.duration_s()
    );
    Ok(())
}

/// `--server URL`, else REDANCE_SERVER; `--server local` (or an empty value) renders here.
fn server(args: &RenderArgs) -> Result<Option<ServerOptions>, EngineError> {
    let url = args.server.clone().or_else(|| std::env::var("REDANCE_SERVER").ok()).unwrap_or_default();
    match url.trim() {
        "" | "local" => Ok(None),
        url => ServerOptions::new(url).map(Some),
    }
}

/// Lane titles for `--plot`: where the source came from, and the settings that made the result.
fn plot_titles(args: &RenderArgs, model: &str) -> (String, String) {
    let name = |p: &std::path::Path| p.file_name().unwrap_or(p.as_os_str()).to_string_lossy().into_owned();
    let source = match &args.input {
        Some(input) => format!("source: {}", name(input)),
        None => "source: silence".into(),
    };
    let what = match args.mode {
        ModeArg::Variation => format!("variation, strength {}", args.strength),
        ModeArg::Interpolate => {
            let with = args.with.as_deref().map(name).unwrap_or_default();
            format!("interpolation with {with} at {}", args.position)
        }
        ModeArg::Generate => "generation".into(),
    };
    let noise = match &args.noise {
        Some(noise) => format!("noise {}", name(noise)),
        None => format!("seed {}", args.seed),
    };
    let sampler = args.sampler.to_possible_value().map(|v| v.get_name().to_owned()).unwrap_or_default();
    (source, format!("{what}, {noise}, {sampler} {} steps, model {model}", args.steps))
}

fn build_spec(args: &RenderArgs) -> Result<JobSpec, EngineError> {
    let input = args.input.as_deref().map(Audio::read_wav).transpose()?;
    let mode = match args.mode {
        ModeArg::Variation => Mode::Variation,
        ModeArg::Interpolate => {
            let other = args
                .with
                .as_deref()
                .ok_or_else(|| EngineError::Input("--mode interpolate needs --with OTHER.wav".into()))?;
            Mode::Interpolation { other: Arc::new(Audio::read_wav(other)?), position: args.position }
        }
        ModeArg::Generate => Mode::Generation,
    };
    if args.length.is_some() && !matches!(mode, Mode::Generation) {
        return Err(EngineError::Input("--length is for --mode generate".into()));
    }
    let source = match (&mode, input, args.length) {
        (Mode::Generation, input, Some(seconds)) => {
            if !(seconds > 0.0 && seconds <= 600.0) {
                return Err(EngineError::Input(format!("--length must be between 0 and 600 seconds, not {seconds}")));
            }
            let (rate, channels) = input.as_ref().map_or((48_000, 2), |a| (a.sample_rate, a.num_channels()));
            Audio::silent(rate, channels, (seconds * rate as f64).round() as usize)
        }
        (_, Some(input), _) => input,
        (Mode::Generation, None, None) => {
            return Err(EngineError::Input(
                "--mode generate needs --length SECONDS (or --input for its length)".into(),
            ));
        }
        (_, None, _) => return Err(EngineError::Input("--input IN.wav is required".into())),
    };
    if !(0.0..=1.0).contains(&args.strength) {
        return Err(EngineError::Input(format!("--strength must be between 0 and 1, not {}", args.strength)));
    }
    let noise = args.noise.as_deref().map(Audio::read_wav).transpose()?.map(Arc::new);
    let sampler = args.sampler.kind();
    if args.output.is_dir() {
        return Err(EngineError::Input(format!("--output {} is a folder", args.output.display())));
    }
    Ok(JobSpec {
        mode,
        source: Arc::new(source),
        strength: StrengthCurve::constant(args.strength),
        settings: RenderSettings {
            steps: args.steps,
            sampler,
            eta: args.eta,
            seed: args.seed,
            window_length: args.window,
            overlap: None,
            match_level: !args.keep_model_level,
        },
        noise,
    })
}
