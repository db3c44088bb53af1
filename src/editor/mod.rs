//! The editor's seam (built in a later issue, on nice-plug-egui). It will read, never write, the
//! audio thread's state: [`crate::shared::Shared`] (status atomics, the message, the track name it
//! sets from `Editor::track_info_updated`) and the parameters; its buttons set the Capture / Render /
//! Keep / Export parameters through the host, or send [`crate::bridge::Command`]s to the bridge via
//! [`crate::plugin::Redance::controller`].
