//! The one thing a sampler needs from a model: a v-prediction for a batch of noisy audio at times t.
//! The ONNX session implements it; tests use analytic fakes that need no runtime or model file.

use crate::error::Result;
use crate::model::ModelInfo;

/// A v-predicting model: what every sampler calls (the ONNX session, a remote server, or a test fake).
pub trait Denoiser: Send {
    /// What the model needs to be fed: rate, channels, lengths.
    fn info(&self) -> &ModelInfo;

    /// `x` is `[batch][channels][frames]` flattened, `t` has one time per batch item in [0, 1];
    /// writes the v-prediction, same layout as `x`, into `v`.
    fn predict_v(&mut self, x: &[f32], t: &[f32], frames: usize, v: &mut [f32]) -> Result<()>;

    /// Most items worth sending in one call (render windows that share their times are batched
    /// up to this). 1: one item per call.
    fn max_batch(&self) -> usize {
        1
    }

    /// Which device runs the model, in words ("CPU", "CUDA (device 0)").
    fn device(&self) -> String {
        "CPU".into()
    }
}

/// Test doubles: exact denoisers built from a known clean signal, and a counting wrapper.
pub mod fake {
    use super::*;

    /// Knows the clean audio `x0` (per batch item layout `[channels][frames]`), so its v-prediction is
    /// exact: eps = (x − α·x0)/σ, v = α·eps − σ·x0. Every correct sampler then lands on x0.
    pub struct Oracle {
        /// The model's description.
        pub info: ModelInfo,
        /// The clean audio every item converges to.
        pub x0: Vec<f32>,
        /// Model calls so far.
        pub calls: usize,
    }

    impl Denoiser for Oracle {
        fn info(&self) -> &ModelInfo {
            &self.info
        }
        fn predict_v(&mut self, x: &[f32], t: &[f32], frames: usize, v: &mut [f32]) -> Result<()> {
            self.calls += 1;
            let item = x.len() / t.len();
            assert_eq!(item % frames, 0);
            for (b, &tb) in t.iter().enumerate() {
                let (a, s) = crate::schedule::alpha_sigma(tb as f64);
                let (a, s) = (a as f32, s as f32);
                for i in 0..item {
                    let x0 = self.x0[i % self.x0.len()];
                    let xi = x[b * item + i];
                    // v = α·eps − σ·x0 with eps = (x − α·x0)/σ, written without dividing by σ.
                    v[b * item + i] = if s > 1e-7 { a * (xi - a * x0) / s - s * x0 } else { -x0 * s };
                }
            }
            Ok(())
        }
    }

    /// Predicts v = 0: the model that has learnt nothing. pred = α·x, so it shrinks towards silence.
    pub struct Zero(pub ModelInfo);

    impl Denoiser for Zero {
        fn info(&self) -> &ModelInfo {
            &self.0
        }
        fn predict_v(&mut self, _x: &[f32], _t: &[f32], _frames: usize, v: &mut [f32]) -> Result<()> {
            v.fill(0.0);
            Ok(())
        }
    }

    /// [`Zero`] that sleeps in every call: a render slow enough to cancel or to wait for.
    pub struct Slow(pub ModelInfo, pub std::time::Duration);

    impl Denoiser for Slow {
        fn info(&self) -> &ModelInfo {
            &self.0
        }
        fn predict_v(&mut self, _x: &[f32], _t: &[f32], _frames: usize, v: &mut [f32]) -> Result<()> {
            std::thread::sleep(self.1);
            v.fill(0.0);
            Ok(())
        }
    }

    /// Fails every call: a model that breaks mid-render.
    pub struct Failing(pub ModelInfo);

    impl Denoiser for Failing {
        fn info(&self) -> &ModelInfo {
            &self.0
        }
        fn predict_v(&mut self, _x: &[f32], _t: &[f32], _frames: usize, _v: &mut [f32]) -> Result<()> {
            Err(crate::EngineError::Inference("the test model always fails".into()))
        }
    }

    /// Panics on every call: proves a panic fails one job, not the worker.
    pub struct Panicking(pub ModelInfo);

    impl Denoiser for Panicking {
        fn info(&self) -> &ModelInfo {
            &self.0
        }
        fn predict_v(&mut self, _x: &[f32], _t: &[f32], _frames: usize, _v: &mut [f32]) -> Result<()> {
            panic!("the test model panics")
        }
    }

    /// Model info for fakes: 48 kHz stereo, `window` frames, length multiple 16.
    pub fn info(window: usize) -> ModelInfo {
        ModelInfo {
            name: "fake".into(),
            sample_rate: 48_000,
            channels: 2,
            window_length: window,
            length_multiple: 16,
            min_length: 16,
        }
    }
}
