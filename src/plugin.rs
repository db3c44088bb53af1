//! The plugin type: nice-plug's lifecycle wired to the bridge (`activate`) and the audio-thread core
//! (`process`). Creating an instance is cheap: no thread, no model; the bridge thread starts at the
//! first activation and the model loads on the engine's worker at the first render.

use crate::boundary::{BridgeCommand, HostConfig};
use crate::bridge::{Bridge, BridgeConfig};
use crate::params::RedanceParams;
use crate::rt::{RtCore, TransportInfo};
use crate::shared::Shared;
use nice_plug::prelude::*;
use std::num::NonZeroU32;
use std::sync::Arc;

/// The plugin: one instance in a host.
pub struct Redance {
    /// Shared with the host's parameter and state calls.
    params: Arc<RedanceParams>,
    /// Status, manifest and track name; shared with the bridge and (later) the editor.
    shared: Arc<Shared>,
    /// Started at the first `activate`; dropped with the instance (cancels its jobs, joins).
    bridge: Option<Bridge>,
    /// Built in `activate`, used only by `process`.
    rt: Option<RtCore>,
    /// Whether the host renders offline (then `process` may wait for a render); set in `activate`.
    offline: bool,
    /// Where the bridge runs jobs and keeps files; tests swap it.
    bridge_config: Option<BridgeConfig>,
}

impl Default for Redance {
    fn default() -> Self {
        crate::unload::pin_library();
        let shared = Arc::new(Shared::default());
        Self {
            params: Arc::new(RedanceParams::new(shared.clone())),
            shared,
            bridge: None,
            rt: None,
            offline: false,
            bridge_config: None,
        }
    }
}

impl Redance {
    /// An instance whose bridge uses `config` (tests: a fake engine, a temporary data folder).
    pub fn with_bridge_config(config: BridgeConfig) -> Self {
        Self { bridge_config: Some(config), ..Self::default() }
    }

    /// Status, manifest and track name, shared with the bridge and the editor.
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// The parameters.
    pub fn redance_params(&self) -> &Arc<RedanceParams> {
        &self.params
    }

    /// Sends a request to the bridge (editor buttons); `false` before the first activation.
    pub fn controller(&self, command: BridgeCommand) -> bool {
        match &self.bridge {
            Some(b) => {
                b.command(command);
                true
            }
            None => false,
        }
    }

    /// Activation without a host (tests, benchmarks): what `activate` does.
    pub fn activate_with(&mut self, sample_rate: f32, num_channels: usize, max_block: usize, offline: bool) {
        let bridge = self.bridge.get_or_insert_with(|| {
            let config = self.bridge_config.clone().unwrap_or_else(BridgeConfig::from_env);
            Bridge::spawn(config, self.shared.clone())
        });
        self.shared.engine_owner.store(bridge.owner(), std::sync::atomic::Ordering::Relaxed);
        *self.shared.commands.lock() = Some(bridge.sender());
        let config = HostConfig::new(sample_rate, num_channels, max_block);
        // The old core (and its rings) goes before the bridge gets the new ends.
        self.rt = None;
        let link = bridge.attach(config);
        self.rt = Some(RtCore::new(config, link, self.shared.clone()));
        self.offline = offline;
    }
}

impl Plugin for Redance {
    const NAME: &'static str = "Redance";
    const VENDOR: &'static str = "Redance";
    const URL: &'static str = "https://example.invalid/redance";
    const EMAIL: &'static str = "redance@example.invalid";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    const AUDIO_IO_LAYOUTS: &'static [AudioIOLayout] = &[
        AudioIOLayout {
            main_input_channels: NonZeroU32::new(2),
            main_output_channels: NonZeroU32::new(2),
            ..AudioIOLayout::const_default()
        },
        AudioIOLayout {
            main_input_channels: NonZeroU32::new(1),
            main_output_channels: NonZeroU32::new(1),
            ..AudioIOLayout::const_default()
        },
    ];

    type SysExMessage = ();
    type BackgroundTask = ();
    #[cfg(feature = "editor")]
    type Editor = crate::editor::RedanceEditor;
    #[cfg(not(feature = "editor"))]
    type Editor = ();

    fn params(&self) -> Arc<dyn Params> {
        self.params.clone()
    }

    /// The egui editor; it reads [`Shared`] and the parameters and never blocks (see `editor`).
    #[cfg(feature = "editor")]
    fn editor(&mut self, _executor: AsyncExecutor<Self>) -> Option<Self::Editor> {
        let config = self.bridge_config.clone().unwrap_or_else(BridgeConfig::from_env);
        crate::editor::create(crate::editor::EditorInputs {
            params: self.params.clone(),
            shared: self.shared.clone(),
            engine: config.engine,
            data_dir: config.data_dir,
        })
    }

    fn activate(
        &mut self,
        layout: &AudioIOLayout,
        buffer_config: &BufferConfig,
        context: &mut impl ActivateContext<Self>,
    ) -> bool {
        // Renders are offline by design: the plugin never delays the signal.
        context.set_latency_samples(0);
        let channels = layout.main_output_channels.map_or(2, NonZeroU32::get) as usize;
        let offline = buffer_config.process_mode == ProcessMode::Offline;
        // What each host says here is in the README (Ardour's export: real-time, then free-wheels).
        nice_log!(
            "Redance: activated at {} Hz, blocks up to {}, {:?} processing",
            buffer_config.sample_rate,
            buffer_config.max_buffer_size,
            buffer_config.process_mode
        );
        self.activate_with(buffer_config.sample_rate, channels, buffer_config.max_buffer_size as usize, offline);
        true
    }

    fn reset(&mut self) {
        if let Some(rt) = self.rt.as_mut() {
            rt.reset();
        }
    }

    fn deactivate(&mut self) {
        self.rt = None;
        if let Some(bridge) = &self.bridge {
            bridge.detach();
        }
    }

    fn process(
        &mut self,
        buffer: &mut Buffer,
        _aux: &mut AuxiliaryBuffers,
        context: &mut impl ProcessContext<Self>,
    ) -> ProcessStatus {
        let Some(rt) = self.rt.as_mut() else { return ProcessStatus::Normal };
        let transport = TransportInfo::from_host(context.transport());
        let params = self.params.rt_params();
        rt.process(buffer.as_slice(), &transport, &params, self.offline);
        // A take may play over silence: the host must not suspend the plugin on a quiet input.
        ProcessStatus::KeepAlive
    }
}

impl ClapPlugin for Redance {
    const CLAP_ID: &'static str = "org.redance.redance";
    const CLAP_DESCRIPTION: Option<&'static str> = Some(env!("CARGO_PKG_DESCRIPTION"));
    const CLAP_MANUAL_URL: Option<&'static str> = None;
    const CLAP_SUPPORT_URL: Option<&'static str> = None;
    const CLAP_FEATURES: &'static [ClapFeature] =
        &[ClapFeature::AudioEffect, ClapFeature::Stereo, ClapFeature::Mono, ClapFeature::Sampler];
}

impl Vst3Plugin for Redance {
    const VST3_CLASS_ID: [u8; 16] = *b"RedanceDDVariatn";
    const VST3_SUBCATEGORIES: &'static [Vst3SubCategory] = &[Vst3SubCategory::Fx, Vst3SubCategory::Sampler];
}
