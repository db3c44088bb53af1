//! Take audio on its way to the audio thread: messages and frames queued on the bridge, pushed into
//! the rings as far as they have room. The bridge allocates here; the audio thread never does.

use crate::boundary::{BridgeEnds, Placement, TakeMsg};
use redance_engine::Audio;
use std::collections::VecDeque;

enum Item {
    Msg(TakeMsg),
    /// Planar audio already in the audio thread's layout.
    Audio(Audio),
}

#[derive(Default)]
pub struct Outbox {
    items: VecDeque<Item>,
    /// Frames of the front `Audio` already pushed.
    cursor: usize,
}

/// Frames pushed per `Frames` message at most, so one message never needs the whole ring.
const MAX_FRAMES_PER_MSG: usize = 8192;

impl Outbox {
    pub fn clear(&mut self) {
        self.items.clear();
        self.cursor = 0;
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn begin(&mut self, id: u64, frames: usize, placement: Placement) {
        self.items.push_back(Item::Msg(TakeMsg::Begin { id, frames, placement }));
    }

    pub fn audio(&mut self, audio: Audio) {
        if audio.frames() > 0 {
            self.items.push_back(Item::Audio(audio));
        }
    }

    pub fn end(&mut self) {
        self.items.push_back(Item::Msg(TakeMsg::End));
    }

    /// Pushes what fits; returns at once.
    pub fn pump(&mut self, ends: &mut BridgeEnds) {
        while let Some(front) = self.items.front() {
            match front {
                Item::Msg(msg) => {
                    if ends.take_msgs.push(*msg).is_err() {
                        return;
                    }
                    self.items.pop_front();
                }
                Item::Audio(audio) => {
                    let num_channels = audio.num_channels();
                    let remaining = audio.frames() - self.cursor;
                    let room = ends.take_samples.slots() / num_channels;
                    let n = remaining.min(room).min(MAX_FRAMES_PER_MSG);
                    if n == 0 || ends.take_msgs.slots() == 0 {
                        return;
                    }
                    let start = self.cursor;
                    let chunk = ends.take_samples.write_chunk_uninit(n * num_channels).expect("room was checked");
                    let frames = (start..start + n).flat_map(|f| audio.channels.iter().map(move |c| c[f]));
                    chunk.fill_from_iter(frames.map(|s| if s.is_finite() { s } else { 0.0 }));
                    ends.take_msgs.push(TakeMsg::Frames { frames: n }).expect("room was checked");
                    self.cursor += n;
                    if self.cursor == audio.frames() {
                        self.items.pop_front();
                        self.cursor = 0;
                    }
                }
            }
        }
    }
}
