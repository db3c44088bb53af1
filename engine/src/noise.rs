//! Seeded Gaussian noise: the same seed gives the same noise on every machine (PCG64 + ziggurat normal).

use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
use rand_pcg::Pcg64Mcg;

/// A deterministic noise stream; `stream` separates independent uses of one seed (windows, eta noise).
pub struct NoiseSource {
    rng: Pcg64Mcg,
}

impl NoiseSource {
    /// A generator for `seed`; `stream` separates independent draws of one seed.
    pub fn new(seed: u64, stream: u64) -> Self {
        // SplitMix-style mixing so nearby (seed, stream) pairs give unrelated generators.
        let mut z = seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        Self { rng: Pcg64Mcg::seed_from_u64(z) }
    }

    /// Fills `out` with standard normal samples.
    pub fn fill(&mut self, out: &mut [f32]) {
        for x in out {
            *x = StandardNormal.sample(&mut self.rng);
        }
    }

    /// `channels` × `frames` standard normal samples, planar.
    pub fn planar(&mut self, channels: usize, frames: usize) -> Vec<Vec<f32>> {
        (0..channels)
            .map(|_| {
                let mut v = vec![0.0; frames];
                self.fill(&mut v);
                v
            })
            .collect()
    }
}
