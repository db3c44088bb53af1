//! The editor's loader thread: reads take and source files, computes their overviews and
//! spectrograms, scans model folders. The UI thread only sends requests and polls replies, so no
//! file read or FFT ever lands on it (or on the audio thread). Lives while the editor is open;
//! dropping the [`Loader`] lets the thread finish its current request and end.

use crate::editor::models::{self, ModelEntry};
use crate::editor::overview::{OVERVIEW_BUCKETS, Overview};
use crate::editor::spectrogram::Spectrogram;
use crate::state::files;
use crate::state::manifest::FileRef;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};

/// Which lane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LaneKind {
    /// The captured source.
    Source,
    /// The current take.
    Take,
}

/// What a lane draws from one audio file.
#[derive(Debug)]
pub struct LaneData {
    /// Min/max per column.
    pub overview: Overview,
    /// The spectrogram image.
    pub spectrogram: Spectrogram,
}

impl LaneData {
    /// Overview and spectrogram of planar audio.
    pub fn from_channels(channels: &[Vec<f32>], sample_rate: u32) -> Self {
        Self {
            overview: Overview::from_channels(channels, sample_rate, OVERVIEW_BUCKETS),
            spectrogram: Spectrogram::compute(channels, sample_rate),
        }
    }
}

/// Work for the loader thread.
pub enum Request {
    /// Load a stored file (under the data folder) for a lane.
    Lane {
        /// Which lane.
        lane: LaneKind,
        /// The file to load.
        file: FileRef,
    },
    /// Synthesised lanes for the demo / screenshot mode, under these content keys.
    Demo {
        /// The source lane's key.
        source_key: String,
        /// The take lane's key.
        take_key: String,
    },
    /// List the models in these folders.
    ScanModels(Vec<PathBuf>),
}

/// What the loader thread sends back.
pub enum Reply {
    /// `key`: the file's SHA-256 (what the lane asked for).
    Lane {
        /// Which lane.
        lane: LaneKind,
        /// The content key it was asked for.
        key: String,
        /// The lane's data, or why it could not be loaded.
        result: Result<Arc<LaneData>, String>,
    },
    /// The models found.
    Models(Vec<ModelEntry>),
}

/// The loader thread's handle; dropping it ends the thread.
pub struct Loader {
    tx: Sender<Request>,
    rx: Receiver<Reply>,
}

impl Loader {
    /// Starts the thread; `wake` is called after each reply (it asks egui for a repaint).
    pub fn spawn(data_dir: PathBuf, wake: impl Fn() + Send + 'static) -> std::io::Result<Self> {
        let (tx, requests) = channel::<Request>();
        let (replies, rx) = channel();
        std::thread::Builder::new().name("redance-editor-loader".into()).spawn(move || {
            for request in requests {
                let reply = match request {
                    Request::Lane { lane, file } => {
                        let result = files::load(&data_dir, &file)
                            .map(|audio| Arc::new(LaneData::from_channels(&audio.channels, audio.sample_rate)));
                        Reply::Lane { lane, key: file.sha256, result }
                    }
                    Request::Demo { source_key, take_key } => {
                        let (source, take) = crate::editor::demo::audio();
                        let s = Arc::new(LaneData::from_channels(&source, crate::editor::demo::RATE));
                        let t = Arc::new(LaneData::from_channels(&take, crate::editor::demo::RATE));
                        if replies.send(Reply::Lane { lane: LaneKind::Source, key: source_key, result: Ok(s) }).is_err()
                        {
                            break;
                        }
                        Reply::Lane { lane: LaneKind::Take, key: take_key, result: Ok(t) }
                    }
                    Request::ScanModels(dirs) => Reply::Models(models::scan(&dirs)),
                };
                if replies.send(reply).is_err() {
                    break;
                }
                wake();
            }
        })?;
        Ok(Self { tx, rx })
    }

    /// Returns at once.
    pub fn request(&self, request: Request) {
        let _ = self.tx.send(request);
    }

    /// Replies so far; returns at once.
    pub fn poll(&self) -> Vec<Reply> {
        self.rx.try_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use redance_engine::Audio;
    use std::time::{Duration, Instant};

    #[test]
    fn loads_a_stored_take_off_the_calling_thread() {
        let dir = tempfile::tempdir().unwrap();
        let audio = Audio::new(48_000, vec![(0..4800).map(|i| (i as f32 * 0.01).sin() * 0.5).collect()]).unwrap();
        let file = files::store(dir.path(), &audio).unwrap();
        let loader = Loader::spawn(dir.path().to_owned(), || {}).unwrap();
        loader.request(Request::Lane { lane: LaneKind::Take, file: file.clone() });
        let mut missing = file.clone();
        missing.name = "0000000000000000.wav".into();
        missing.sha256 = "00".repeat(32);
        loader.request(Request::Lane { lane: LaneKind::Source, file: missing });
        let mut replies = Vec::new();
        let start = Instant::now();
        while replies.len() < 2 && start.elapsed() < Duration::from_secs(20) {
            replies.extend(loader.poll());
            std::thread::sleep(Duration::from_millis(5));
        }
        let Reply::Lane { lane, key, result } = &replies[0] else { panic!("lane reply expected") };
        assert_eq!((*lane, key.as_str()), (LaneKind::Take, file.sha256.as_str()));
        let data = result.as_ref().unwrap();
        assert_eq!(data.overview.frames, 4800);
        assert!((data.overview.peak - 0.5).abs() < 1e-3);
        let Reply::Lane { result: Err(e), .. } = &replies[1] else { panic!("missing file must fail") };
        assert!(e.contains("missing"), "{e}");
    }
}
