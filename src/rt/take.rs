//! The take on the audio thread: a buffer sized in `activate`, filled from the bridge's sample ring
//! in order, and played in place (at its timeline position), on the bar grid (loop) or freely
//! (without a transport: from its start once it has fully arrived). Frames not yet rendered play dry,
//! except while a new take of the same region streams in: there the previous take, still in the
//! buffer past the new one's frames, keeps playing, so a re-render never leaves dry holes in a loop.

use super::transport::TransportInfo;
use crate::boundary::{Placement, TakeMsg, prefault};
use crate::status::Status;
use rtrb::Consumer;
use std::sync::atomic::Ordering;

pub struct Take {
    /// Planar take audio, `max_frames` each; written from the ring by the audio thread.
    channels: Vec<Vec<f32>>,
    /// Id of the take in the buffer (0: none).
    id: u64,
    /// Frames the take will have, and frames present so far (a prefix: chunks arrive in order).
    total: usize,
    ready: usize,
    /// Frames of the previous take of the same region still in the buffer (they play past `ready`
    /// until the new take's frames overwrite them); 0 when the region changed.
    held: usize,
    placement: Placement,
    /// Frames of the current `Frames` message still to read from the sample ring.
    pending: usize,
    /// Whether the bridge said `End` for this take.
    ended: bool,
    /// Free playback: the playhead in take frames, and whether it has started / finished.
    free_pos: usize,
    free_started: bool,
}

impl Take {
    pub fn new(num_channels: usize, max_frames: usize) -> Self {
        let channels = (0..num_channels)
            .map(|_| {
                let mut v = vec![0.0f32; max_frames];
                prefault(&mut v);
                v
            })
            .collect();
        Self {
            channels,
            id: 0,
            total: 0,
            ready: 0,
            held: 0,
            placement: Placement::Free,
            pending: 0,
            ended: true,
            free_pos: 0,
            free_started: false,
        }
    }

    /// Audio thread: restarts free playback (transport reset).
    pub fn reset(&mut self) {
        self.free_pos = 0;
        self.free_started = false;
    }

    pub fn id(&self) -> u64 {
        self.id
    }

    pub fn ready(&self) -> usize {
        self.ready
    }

    /// Audio thread. Reads messages and at most `budget` frames from the rings.
    pub fn drain(
        &mut self,
        msgs: &mut Consumer<TakeMsg>,
        samples: &mut Consumer<f32>,
        mut budget: usize,
        status: &Status,
    ) {
        let num_channels = self.channels.len();
        loop {
            if self.pending == 0 {
                match msgs.pop() {
                    Err(_) => break,
                    Ok(TakeMsg::Begin { id, frames, placement }) => {
                        let total = frames.min(self.max_frames());
                        let same_region = self.id != 0 && placement == self.placement && total == self.total;
                        self.held = if same_region { self.ready.max(self.held) } else { 0 };
                        self.id = id;
                        self.total = total;
                        self.ready = 0;
                        self.placement = placement;
                        self.ended = false;
                        self.reset();
                        status.take_id_playing.store(id, Ordering::Relaxed);
                        status.take_frames_total.store(self.total, Ordering::Relaxed);
                    }
                    Ok(TakeMsg::Frames { frames }) => self.pending = frames,
                    Ok(TakeMsg::End) => self.ended = true,
                }
                continue;
            }
            if budget == 0 {
                break;
            }
            let frames = self.pending.min(budget);
            let Ok(chunk) = samples.read_chunk(frames * num_channels) else {
                // The bridge pushes samples before their message, so this cannot happen; stop
                // rather than spin.
                break;
            };
            let (a, b) = chunk.as_slices();
            for (k, s) in a.iter().chain(b).enumerate() {
                let frame = self.ready + k / num_channels;
                if frame < self.total {
                    // The model's output is sanitized by the bridge; this keeps the output finite
                    // whatever arrives.
                    self.channels[k % num_channels][frame] = if s.is_finite() { *s } else { 0.0 };
                }
            }
            chunk.commit_all();
            self.ready = (self.ready + frames).min(self.total);
            self.pending -= frames;
            budget -= frames;
        }
        status.take_frames_ready.store(self.ready, Ordering::Relaxed);
    }

    /// Whether the block needs take frames that are not here yet (offline bounce waits then).
    pub fn missing_for(&self, n: usize, transport: &TransportInfo, looping: bool) -> bool {
        if self.id == 0 || self.ready >= self.total {
            return false;
        }
        match self.placement {
            Placement::Free => !self.ended || self.free_pos + n > self.ready,
            Placement::At(start) => {
                let Some(pos) = transport.pos_samples.filter(|_| transport.playing) else { return false };
                if looping {
                    return true;
                }
                let rel0 = pos - start;
                let rel1 = (rel0 + n as i64).min(self.total as i64);
                rel1 > 0 && rel0 < self.total as i64 && rel1 > self.ready as i64
            }
        }
    }

    /// Audio thread. Blends the take, scaled by `gain` (A/B loudness match), into `io` where it
    /// plays in this block.
    pub fn play(&mut self, io: &mut [&mut [f32]], transport: &TransportInfo, mix: f32, looping: bool, gain: f32) {
        let n = io.first().map_or(0, |c| c.len());
        if self.id == 0 || self.total == 0 || n == 0 {
            return;
        }
        match self.placement {
            Placement::At(start) => {
                let Some(pos) = transport.pos_samples.filter(|_| transport.playing) else { return };
                let mut i = 0;
                while i < n {
                    let mut rel = pos + i as i64 - start;
                    if looping {
                        rel = rel.rem_euclid(self.total as i64);
                    }
                    if rel < 0 {
                        // Before the region: skip to where it starts.
                        i += ((-rel) as usize).min(n - i);
                        continue;
                    }
                    let rel = rel as usize;
                    if rel >= self.total {
                        break;
                    }
                    let len = (self.total - rel).min(n - i);
                    self.blend(io, i, rel, len, mix, gain);
                    i += len;
                }
            }
            Placement::Free => {
                if !self.free_started {
                    // A take without a place plays once it is all here: from its start, without
                    // holes a render slower than real time would leave.
                    if !self.ended || self.ready == 0 {
                        return;
                    }
                    self.free_started = true;
                }
                let mut i = 0;
                while i < n && self.free_pos < self.total {
                    let len = (self.total - self.free_pos).min(n - i);
                    self.blend(io, i, self.free_pos, len, mix, gain);
                    self.free_pos += len;
                    i += len;
                    if looping && self.free_pos >= self.total {
                        self.free_pos = 0;
                    }
                }
            }
        }
    }

    /// `io[.., at..at+len]` ← take frames `from..from+len` where rendered (or held from the
    /// previous take of the region); the rest stays dry.
    fn blend(&self, io: &mut [&mut [f32]], at: usize, from: usize, len: usize, mix: f32, gain: f32) {
        let len = len.min(self.ready.max(self.held).saturating_sub(from));
        let num_channels = self.channels.len();
        for (c, out) in io.iter_mut().enumerate() {
            let take = &self.channels[c.min(num_channels - 1)][from..from + len];
            let out = &mut out[at..at + len];
            if mix >= 1.0 && gain == 1.0 {
                out.copy_from_slice(take);
            } else {
                for (o, t) in out.iter_mut().zip(take) {
                    *o += (*t * gain - *o) * mix;
                }
            }
        }
    }

    fn max_frames(&self) -> usize {
        self.channels.first().map_or(0, Vec::len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const N: usize = 1000;

    /// A take of `frames` frames of constant `value` at `placement`, `sent` of them delivered.
    fn send(take: &mut Take, id: u64, placement: Placement, value: f32, sent: usize) {
        let (mut msg_tx, mut msgs) = rtrb::RingBuffer::new(8);
        let (mut sample_tx, mut samples) = rtrb::RingBuffer::new(2 * N);
        msg_tx.push(TakeMsg::Begin { id, frames: N, placement }).unwrap();
        for _ in 0..sent {
            sample_tx.push(value).unwrap();
        }
        msg_tx.push(TakeMsg::Frames { frames: sent }).unwrap();
        take.drain(&mut msgs, &mut samples, usize::MAX, &Status::default());
    }

    fn play_region(take: &mut Take, start: i64) -> Vec<f32> {
        let transport = TransportInfo { playing: true, pos_samples: Some(start), ..Default::default() };
        let mut out = vec![0.5f32; N];
        take.play(&mut [&mut out[..]], &transport, 1.0, false, 1.0);
        out
    }

    #[test]
    fn a_rerender_of_the_region_keeps_the_previous_take_where_the_new_one_has_not_arrived() {
        let mut take = Take::new(1, N);
        send(&mut take, 1, Placement::At(100), 1.0, N);
        send(&mut take, 2, Placement::At(100), 2.0, N / 4);
        let out = play_region(&mut take, 100);
        assert!(out[..N / 4].iter().all(|&s| s == 2.0), "the new take where it has arrived");
        assert!(out[N / 4..].iter().all(|&s| s == 1.0), "the previous take, not dry, past it");
    }

    #[test]
    fn a_take_of_another_region_plays_dry_until_it_arrives() {
        let mut take = Take::new(1, N);
        send(&mut take, 1, Placement::At(100), 1.0, N);
        send(&mut take, 2, Placement::At(5_000), 2.0, N / 4);
        let out = play_region(&mut take, 5_000);
        assert!(out[..N / 4].iter().all(|&s| s == 2.0));
        assert!(out[N / 4..].iter().all(|&s| s == 0.5), "dry input past the new frames");
    }
}
