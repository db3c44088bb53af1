//! The audio thread's cost per block, relative to a plain copy of the block (the least any effect
//! does). The measured block plays a take in place (Mix 0.5, so every sample is blended), captures at
//! the same time and drains take audio from the ring: the busiest a block gets.
//!
//! Run: `cargo bench -p redance --bench rt_block`.

use redance::boundary::{HostConfig, Placement, TakeMsg, ToBridge, link};
use redance::params::RedanceParams;
use redance::rt::{RtCore, RtParams, TransportInfo};
use redance::shared::Shared;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

const RATE: f32 = 48_000.0;
const CHANNELS: usize = 2;
const TAKE_FRAMES: usize = 10 * 48_000;

fn transport(pos: i64) -> TransportInfo {
    TransportInfo {
        playing: true,
        tempo_bpm: Some(120.0),
        time_sig: Some((4, 4)),
        pos_samples: Some(pos),
        pos_beats: Some(pos as f64 / RATE as f64 * 2.0),
        bar_start_beats: None,
    }
}

struct Bench {
    rt: RtCore,
    ends: redance::boundary::BridgeEnds,
    io: Vec<Vec<f32>>,
    pos: i64,
    params: RtParams,
}

impl Bench {
    fn new(block: usize) -> Bench {
        let config = HostConfig::new(RATE, CHANNELS, block);
        let (rt_link, mut ends) = link(config);
        let rt = RtCore::new(config, rt_link, Arc::new(Shared::default()));
        ends.take_msgs.push(TakeMsg::Begin { id: 1, frames: TAKE_FRAMES, placement: Placement::At(0) }).unwrap();
        let params = RtParams { mix: 0.5, length: 32, start_on_bar: false, ..RedanceParams::default_rt_params() };
        let mut b = Bench { rt, ends, io: vec![vec![0.1; block]; CHANNELS], pos: 0, params };
        // Fill the take through the ring, as the bridge would.
        let mut sent = 0;
        while sent < TAKE_FRAMES {
            let n = (b.ends.take_samples.slots() / CHANNELS).min(TAKE_FRAMES - sent).min(8192);
            if n > 0 {
                let chunk = b.ends.take_samples.write_chunk_uninit(n * CHANNELS).unwrap();
                chunk.fill_from_iter((0..n * CHANNELS).map(|k| (k as f32 * 0.001).sin()));
                b.ends.take_msgs.push(TakeMsg::Frames { frames: n }).unwrap();
                sent += n;
            }
            b.block();
        }
        for _ in 0..(TAKE_FRAMES / block + 2) {
            b.block();
        }
        b.params.capture = true;
        b
    }

    fn block(&mut self) {
        let n = self.io[0].len();
        let (a, rest) = self.io.split_at_mut(1);
        let mut slices: [&mut [f32]; 2] = [&mut a[0][..], &mut rest[0][..]];
        self.rt.process(&mut slices, &transport(self.pos), &self.params, false);
        self.pos = (self.pos + n as i64) % TAKE_FRAMES as i64;
        // Hand finished captures back at once, as the bridge does.
        while let Ok(msg) = self.ends.from_rt.pop() {
            if let ToBridge::Captured { buf, .. } = msg {
                let _ = self.ends.free_bufs.push(buf);
            }
        }
    }
}

/// Mean and worst ns per call of `f`, over about `budget`.
fn time(budget: Duration, mut f: impl FnMut()) -> (f64, f64) {
    for _ in 0..100 {
        f();
    }
    let (mut n, mut worst) = (0u64, 0f64);
    let start = Instant::now();
    while start.elapsed() < budget {
        let t = Instant::now();
        f();
        worst = worst.max(t.elapsed().as_nanos() as f64);
        n += 1;
    }
    (start.elapsed().as_nanos() as f64 / n as f64, worst)
}

fn main() {
    println!("block  redance ns  copy ns  ratio  | worst redance ns  worst copy ns");
    let mut worst_ratio = 0f64;
    for block in [32usize, 64, 512, 4096] {
        let mut bench = Bench::new(block);
        let (rt_ns, rt_worst) = time(Duration::from_millis(800), || bench.block());
        let input = vec![vec![0.1f32; block]; CHANNELS];
        let mut output = vec![vec![0.0f32; block]; CHANNELS];
        let (copy_ns, copy_worst) = time(Duration::from_millis(800), || {
            for (o, i) in output.iter_mut().zip(&input) {
                o.copy_from_slice(black_box(i));
            }
            black_box(&mut output);
        });
        let ratio = rt_ns / copy_ns;
        worst_ratio = worst_ratio.max(ratio);
        println!("{block:>5}  {rt_ns:>10.0}  {copy_ns:>7.0}  {ratio:>5.1}  | {rt_worst:>16.0}  {copy_worst:>13.0}");
    }
    println!("worst mean ratio: {worst_ratio:.1}x a plain copy");
}
