//! The rings between the audio thread and the bridge, built for one activation: small messages each
//! way, the capture pool, and the take's samples. Built (and filled) off the audio thread.

use super::capture_buf::CaptureBuf;
use super::host::HostConfig;
use super::messages::{TakeMsg, ToBridge};
use rtrb::{Consumer, Producer, RingBuffer};

/// Capture buffers per activation: one filling, one with the bridge.
pub const CAPTURE_POOL: usize = 2;
/// Queue lengths for small messages.
const MSG_QUEUE: usize = 64;
/// The take's sample ring holds this many seconds…
const SAMPLE_RING_SECONDS: f32 = 1.0;
/// …and at least this many frames (low sample rates).
const MIN_SAMPLE_RING_FRAMES: usize = 8192;

/// The audio thread's ends of the rings.
pub struct RtLink {
    /// Captures and requests to the bridge.
    pub to_bridge: Producer<ToBridge>,
    /// Empty capture buffers from the pool.
    pub free_bufs: Consumer<Box<CaptureBuf>>,
    /// The take's messages, in order.
    pub take_msgs: Consumer<TakeMsg>,
    /// The take's samples, interleaved.
    pub take_samples: Consumer<f32>,
}

/// The bridge's ends, for one activation.
pub struct BridgeEnds {
    /// The activation these rings belong to.
    pub config: HostConfig,
    /// Captures and requests from the audio thread.
    pub from_rt: Consumer<ToBridge>,
    /// Capture buffers going back to the pool.
    pub free_bufs: Producer<Box<CaptureBuf>>,
    /// The take's messages, in order.
    pub take_msgs: Producer<TakeMsg>,
    /// The take's samples, interleaved.
    pub take_samples: Producer<f32>,
}

/// Builds the rings and the capture pool for `config` (allocates: call from `activate`).
pub fn link(config: HostConfig) -> (RtLink, BridgeEnds) {
    let (to_bridge, from_rt) = RingBuffer::new(MSG_QUEUE);
    let (mut free_tx, free_rx) = RingBuffer::new(CAPTURE_POOL);
    for _ in 0..CAPTURE_POOL {
        let buf = CaptureBuf::new(config.num_channels, config.max_capture_frames, config.sample_rate as u32);
        free_tx.push(buf).expect("the pool ring holds the pool");
    }
    let (msg_tx, msg_rx) = RingBuffer::new(MSG_QUEUE);
    let frames = ((config.sample_rate * SAMPLE_RING_SECONDS) as usize).max(MIN_SAMPLE_RING_FRAMES);
    let (sample_tx, sample_rx) = RingBuffer::new(frames * config.num_channels);
    (
        RtLink { to_bridge, free_bufs: free_rx, take_msgs: msg_rx, take_samples: sample_rx },
        BridgeEnds { config, from_rt, free_bufs: free_tx, take_msgs: msg_tx, take_samples: sample_tx },
    )
}
