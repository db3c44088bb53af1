//! The take library: the current source and take, the history and its rules (the last few unkept
//! takes, kept ones up to a limit, the current one always), and their files and manifest. Plain data
//! and files: no thread, rings or status here; the bridge thread calls it and says what happened.

use super::job::Source;
use super::pending;
use crate::boundary::RenderChoice;
use crate::state::export;
use crate::state::files;
use crate::state::journal::{self, JournalTag};
use crate::state::manifest::{FileRef, SourceEntry, TakeEntry, TakesManifest};
use redance_engine::{Audio, ModeKind};
use std::path::PathBuf;
use std::sync::Arc;

/// Unkept takes in the history, the current one included; kept takes stay (up to [`MAX_KEPT`]).
pub const HISTORY_UNKEPT: usize = 4;
/// Kept takes in the history at most (the oldest go first).
pub const MAX_KEPT: usize = 32;
/// Buffers remembered as already written (the source and the take).
const STORED_CACHE: usize = 2;

/// What a restored manifest brought back.
pub struct Restored {
    /// The current take, to stream to the audio thread: id, audio, timeline position.
    pub take: Option<(u64, Arc<Audio>, Option<i64>)>,
    /// A capture saved before its render finished: rendered again, or why it cannot be.
    pub resume: Option<Result<(Source, RenderChoice), String>>,
    /// What could not be restored, in words.
    pub problems: Vec<String>,
    /// Brought back from the recovery journal: what was captured or rendered after the save.
    pub recovered: bool,
}

/// One instance's takes; see the module docs.
pub struct Takes {
    /// Where the content-addressed take files live.
    data_dir: PathBuf,
    /// Where Export writes.
    export_dir: PathBuf,
    /// The latest capture.
    source: Option<Source>,
    /// The last buffers known to be in the takes folder (the source and the take), so a source
    /// is written and hashed once however often the state is saved; kept to two so no old audio is
    /// held alive here.
    stored: Vec<(Arc<Audio>, FileRef)>,
    /// The current take: id and audio at the source's rate.
    take: Option<(u64, Arc<Audio>)>,
    /// What the plugin state holds.
    manifest: TakesManifest,
    /// The id the next take gets.
    next_take_id: u64,
    /// The recovery journal this library writes (claimed in this process), and how far along it is.
    journal: JournalTag,
}

impl Drop for Takes {
    fn drop(&mut self) {
        journal::release(&self.journal.id);
    }
}

impl Takes {
    /// An empty library keeping its files in `data_dir`, exporting to `export_dir` and writing
    /// journal `journal_id` (a fresh one if another instance of this process writes that one).
    pub fn new(data_dir: PathBuf, export_dir: PathBuf, journal_id: String) -> Self {
        let id = if journal::claim(&journal_id) { journal_id } else { Self::fresh_journal_id() };
        Self {
            data_dir,
            export_dir,
            source: None,
            stored: Vec::new(),
            take: None,
            manifest: TakesManifest::default(),
            next_take_id: 1,
            journal: JournalTag { id, seq: 0 },
        }
    }

    fn fresh_journal_id() -> String {
        loop {
            let id = journal::new_id();
            if journal::claim(&id) {
                return id;
            }
        }
    }

    /// The journal this library writes.
    pub fn journal_id(&self) -> &str {
        &self.journal.id
    }

    /// The manifest as the plugin state should hold it from now on, also written to the journal; the
    /// error says why the journal could not be written (the state holds it all the same).
    pub fn publish(&mut self) -> (serde_json::Value, Result<(), String>) {
        self.journal.seq += 1;
        self.manifest.journal = Some(self.journal.clone());
        let written = journal::write(&self.data_dir, &self.manifest);
        (self.manifest.to_value(), written)
    }

    /// The latest capture.
    pub fn source(&self) -> Option<&Source> {
        self.source.as_ref()
    }

    /// The current take: id and audio.
    pub fn take(&self) -> Option<&(u64, Arc<Audio>)> {
        self.take.as_ref()
    }

    /// The manifest as the plugin state should hold it.
    pub fn manifest(&self) -> &TakesManifest {
        &self.manifest
    }

    /// A fresh take id.
    pub fn next_id(&mut self) -> u64 {
        let id = self.next_take_id;
        self.next_take_id += 1;
        id
    }

    /// A new capture becomes the source, and is saved the moment it completes: its file is written
    /// and the manifest names it. The error says why it is not saved (it is the source all the same).
    pub fn set_source(&mut self, source: Source) -> Result<(), String> {
        self.source = Some(source.clone());
        self.manifest.source = Some(self.source_entry(&source)?);
        Ok(())
    }

    /// The source's manifest entry, its file written first (temporary file, then renamed: see
    /// `Audio::write_wav`) so the state never names a file that is not complete.
    fn source_entry(&mut self, source: &Source) -> Result<SourceEntry, String> {
        Ok(SourceEntry {
            file: self.store(&source.audio)?,
            start_pos: source.start_pos,
            strength: source.strength.clone(),
        })
    }

    /// `audio` in the takes folder; written once however often it is saved.
    fn store(&mut self, audio: &Arc<Audio>) -> Result<FileRef, String> {
        if let Some((_, file)) = self.stored.iter().find(|(a, _)| Arc::ptr_eq(a, audio)) {
            return Ok(file.clone());
        }
        let file = files::store(&self.data_dir, audio)?;
        self.remember(audio, &file);
        Ok(file)
    }

    fn remember(&mut self, audio: &Arc<Audio>, file: &FileRef) {
        if self.stored.len() >= STORED_CACHE {
            self.stored.remove(0);
        }
        self.stored.push((audio.clone(), file.clone()));
    }

    /// Marks the render of `source` with `choice` as pending in the state until its take is saved.
    pub fn mark_pending(&mut self, source: &Source, choice: &RenderChoice) -> Result<(), String> {
        let entry = self.source_entry(source)?;
        self.manifest.pending = Some(pending::entry(entry, choice));
        Ok(())
    }

    /// A cancelled render: not to be rendered again on reopening (the source stays).
    pub fn clear_pending(&mut self) {
        self.manifest.pending = None;
    }

    /// A finished render of `source` with `choice` becomes take `id`, the current one: files for the
    /// source and the take, an entry in the history (trimmed), no more pending render. The take is
    /// current even when saving fails; the error says why it is not saved.
    pub fn record(&mut self, id: u64, source: &Source, choice: &RenderChoice, audio: Arc<Audio>) -> Result<(), String> {
        self.take = Some((id, audio.clone()));
        let source_file = self.store(&source.audio)?;
        let take_file = self.store(&audio)?;
        let strength = source.strength.iter().sum::<f32>() / source.strength.len().max(1) as f32;
        // The latest capture is the source (another may have completed while this one rendered).
        let latest = self.source.clone().unwrap_or_else(|| source.clone());
        self.manifest.source = Some(self.source_entry(&latest)?);
        self.manifest.pending = None;
        self.manifest.history.push(TakeEntry {
            id,
            file: take_file,
            source_sha256: source_file.sha256,
            start_pos: source.start_pos,
            mode: choice.mode.name().into(),
            seed: choice.seed,
            steps: choice.steps,
            sampler: choice.sampler.name().into(),
            strength: if choice.mode == ModeKind::Generation { 1.0 } else { strength },
            kept: false,
        });
        self.manifest.current = Some(id);
        self.trim_history();
        Ok(())
    }

    /// Drops the oldest unkept takes beyond [`HISTORY_UNKEPT`] and the oldest kept ones beyond
    /// [`MAX_KEPT`]; never the current one.
    fn trim_history(&mut self) {
        let history = &self.manifest.history;
        let unkept: Vec<u64> = history.iter().filter(|t| !t.kept).map(|t| t.id).collect();
        let drop_unkept = unkept.len().saturating_sub(HISTORY_UNKEPT);
        let kept: Vec<u64> = history.iter().filter(|t| t.kept).map(|t| t.id).collect();
        let drop_kept = kept.len().saturating_sub(MAX_KEPT);
        let gone: Vec<u64> = unkept[..drop_unkept].iter().chain(&kept[..drop_kept]).copied().collect();
        let current = self.manifest.current;
        self.manifest.history.retain(|t| !gone.contains(&t.id) || Some(t.id) == current);
    }

    /// Marks the current take kept; its id, or `None` when there is no take yet.
    pub fn keep(&mut self) -> Option<u64> {
        let id = self.manifest.current?;
        if let Some(t) = self.manifest.history.iter_mut().find(|t| t.id == id) {
            t.kept = true;
        }
        Some(id)
    }

    /// Makes take `id` of the history the current one, its file loaded: its audio and timeline position.
    pub fn select(&mut self, id: u64) -> Result<(Arc<Audio>, Option<i64>), String> {
        let Some(entry) = self.manifest.history.iter().find(|t| t.id == id).cloned() else {
            return Err(format!("Take {id} is no longer in the history."));
        };
        let audio =
            files::load(&self.data_dir, &entry.file).map_err(|e| format!("Take {id} could not be loaded: {e}"))?;
        let audio = Arc::new(audio);
        self.take = Some((id, audio.clone()));
        self.manifest.current = Some(id);
        Ok((audio, entry.start_pos))
    }

    /// Writes the current take as a WAV named for `track`; its id and path.
    pub fn export(&self, track: Option<&str>) -> Result<(u64, PathBuf), String> {
        let (Some(entry), Some((id, audio))) = (self.manifest.current_take(), self.take.as_ref()) else {
            return Err("No take to export yet.".into());
        };
        debug_assert_eq!(entry.id, *id);
        let name = export::file_name(track, entry);
        export::export(&self.export_dir, &name, audio)
            .map(|path| (*id, path))
            .map_err(|e| format!("Export failed: {e}"))
    }

    /// Forgets the source, the take and the history (a state without takes was loaded).
    pub fn clear(&mut self) {
        self.source = None;
        self.stored.clear();
        self.take = None;
        self.manifest = TakesManifest::default();
    }

    /// Brings back a loaded state's source and current take, and the render it had pending: from its
    /// journal when that got further than the state (what was captured or rendered after the last
    /// save). Call [`Takes::clear`] first, and [`Takes::publish`] after.
    pub fn restore(&mut self, manifest: TakesManifest) -> Restored {
        let (manifest, recovered) = self.adopt_journal(manifest);
        let dir = self.data_dir.clone();
        let mut restored = Restored { take: None, resume: None, problems: Vec::new(), recovered };
        if let Some(src) = &manifest.source {
            match files::load(&dir, &src.file) {
                Ok(audio) => {
                    let audio = Arc::new(audio);
                    self.remember(&audio, &src.file);
                    self.source = Some(Source { audio, start_pos: src.start_pos, strength: src.strength.clone() });
                }
                Err(e) => restored.problems.push(format!("source: {e}")),
            }
        }
        if let Some(entry) = manifest.current_take() {
            match files::load(&dir, &entry.file) {
                Ok(audio) => {
                    let audio = Arc::new(audio);
                    self.take = Some((entry.id, audio.clone()));
                    restored.take = Some((entry.id, audio, entry.start_pos));
                }
                Err(e) => restored.problems.push(format!("take {}: {e}", entry.id)),
            }
        }
        self.next_take_id = manifest.history.iter().map(|t| t.id + 1).max().unwrap_or(1).max(self.next_take_id);
        // A capture saved before its render finished: render it again (its source was saved first).
        restored.resume = manifest.pending.as_ref().map(|p| match (&manifest.source, &self.source) {
            (Some(src), Some(loaded)) if src == &p.source => pending::resume_loaded(loaded, p),
            _ => pending::resume(&dir, p),
        });
        self.manifest = manifest;
        restored
    }

    /// A loaded state names its journal: this library writes that journal from now on unless another
    /// live instance does (a duplicated track), and a journal that got further than the state replaces
    /// it. An instance's own journal never replaces a state it is given (the host's undo, a preset):
    /// only a reopened project recovers.
    fn adopt_journal(&mut self, saved: TakesManifest) -> (TakesManifest, bool) {
        let Some(tag) = saved.journal.clone() else { return (saved, false) };
        if tag.id == self.journal.id || !journal::claim(&tag.id) {
            self.journal.seq = self.journal.seq.max(tag.seq);
            return (saved, false);
        }
        journal::release(&self.journal.id);
        let newer = journal::newer_than(&self.data_dir, &tag);
        let seq = newer.as_ref().and_then(|m| m.journal.as_ref()).map_or(tag.seq, |t| t.seq);
        self.journal = JournalTag { id: tag.id, seq };
        match newer {
            Some(journal) => (journal, true),
            None => (saved, false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use redance_engine::SamplerKind;

    fn library() -> (tempfile::TempDir, Takes) {
        let dir = tempfile::tempdir().unwrap();
        let takes = Takes::new(dir.path().join("data"), dir.path().join("exports"), journal::new_id());
        (dir, takes)
    }

    /// A short stereo clip, different for every `n`.
    fn audio(n: u64) -> Arc<Audio> {
        let ch = |c: u64| (0..16).map(|i| ((n * 31 + c * 7 + i) % 97) as f32 / 97.0 - 0.5).collect();
        Arc::new(Audio::new(48_000, vec![ch(0), ch(1)]).unwrap())
    }

    fn source() -> Source {
        Source { audio: audio(0), start_pos: Some(1_000), strength: vec![0.25, 0.75] }
    }

    fn choice() -> RenderChoice {
        RenderChoice {
            steps: 3,
            sampler: SamplerKind::Ddim,
            seed: 7,
            mode: ModeKind::Variation,
            position: 0.5,
            auto_render: true,
            match_level: true,
        }
    }

    /// Records `n` renders of the source; their ids.
    fn record(takes: &mut Takes, n: usize) -> Vec<u64> {
        (0..n)
            .map(|_| {
                let id = takes.next_id();
                takes.record(id, &source(), &choice(), audio(id)).unwrap();
                id
            })
            .collect()
    }

    fn ids(takes: &Takes) -> Vec<u64> {
        takes.manifest().history.iter().map(|t| t.id).collect()
    }

    #[test]
    fn the_history_keeps_the_last_unkept_takes() {
        let (_dir, mut takes) = library();
        let recorded = record(&mut takes, HISTORY_UNKEPT + 2);
        assert_eq!(ids(&takes), recorded[2..]);
        assert_eq!(takes.manifest().current, recorded.last().copied());
        let entry = takes.manifest().current_take().unwrap();
        assert_eq!((entry.mode.as_str(), entry.sampler.as_str(), entry.seed, entry.steps), ("variation", "ddim", 7, 3));
        assert_eq!(entry.strength, 0.5, "the mean strength along the source");
    }

    #[test]
    fn kept_takes_outlive_the_unkept_ones() {
        let (_dir, mut takes) = library();
        let first = record(&mut takes, 1)[0];
        assert_eq!(takes.keep(), Some(first));
        let later = record(&mut takes, HISTORY_UNKEPT + 1);
        let mut expected = vec![first];
        expected.extend(&later[1..]);
        assert_eq!(ids(&takes), expected);
        assert!(takes.manifest().history[0].kept);
    }

    #[test]
    fn kept_takes_are_bounded_too() {
        let (_dir, mut takes) = library();
        let mut kept = Vec::new();
        for _ in 0..MAX_KEPT + 1 {
            kept.extend(record(&mut takes, 1));
            takes.keep();
        }
        // The history is trimmed when a take is recorded.
        let next = record(&mut takes, 1);
        assert_eq!(ids(&takes), [&kept[1..], &next[..]].concat(), "the oldest kept take goes");
    }

    #[test]
    fn the_current_take_is_never_trimmed() {
        let (_dir, mut takes) = library();
        let first = record(&mut takes, 1)[0];
        record(&mut takes, HISTORY_UNKEPT - 1);
        takes.select(first).unwrap();
        takes.trim_history();
        assert!(ids(&takes).contains(&first));
        assert_eq!(takes.take().map(|(id, _)| *id), Some(first));
    }

    #[test]
    fn nothing_to_keep_select_or_export_says_so() {
        let (_dir, mut takes) = library();
        assert_eq!(takes.keep(), None);
        assert_eq!(takes.select(3).unwrap_err(), "Take 3 is no longer in the history.");
        assert_eq!(takes.export(None).unwrap_err(), "No take to export yet.");
    }

    #[test]
    fn select_and_export_use_the_files() {
        let (dir, mut takes) = library();
        let recorded = record(&mut takes, 2);
        let (played, start) = takes.select(recorded[0]).unwrap();
        assert_eq!((played.channels.clone(), start), (audio(recorded[0]).channels.clone(), Some(1_000)));
        let (id, path) = takes.export(Some("Bass")).unwrap();
        assert_eq!(id, recorded[0]);
        assert!(path.starts_with(dir.path().join("exports")) && path.exists());
    }

    #[test]
    fn a_restored_manifest_brings_back_the_take_and_continues_the_ids() {
        let (dir, mut takes) = library();
        takes.set_source(source()).unwrap();
        let recorded = record(&mut takes, 3);
        takes.mark_pending(&source(), &choice()).unwrap();
        let saved = takes.manifest().clone();
        let mut reopened = Takes::new(dir.path().join("data"), dir.path().join("exports"), journal::new_id());
        let restored = reopened.restore(saved.clone());
        assert!(restored.problems.is_empty(), "{:?}", restored.problems);
        let (id, audio_back, start) = restored.take.unwrap();
        assert_eq!((id, start), (recorded[2], Some(1_000)));
        assert_eq!(audio_back.channels, audio(recorded[2]).channels);
        let (resumed, resumed_choice) = restored.resume.unwrap().unwrap();
        assert_eq!((resumed.audio.channels.clone(), resumed_choice.steps), (source().audio.channels.clone(), 3));
        assert_eq!(reopened.next_id(), recorded[2] + 1);
        assert_eq!(reopened.manifest(), &saved);
    }

    #[test]
    fn a_restore_with_missing_files_says_which() {
        let (dir, mut takes) = library();
        takes.set_source(source()).unwrap();
        record(&mut takes, 1);
        let saved = takes.manifest().clone();
        let mut elsewhere = Takes::new(dir.path().join("empty"), dir.path().join("exports"), journal::new_id());
        let restored = elsewhere.restore(saved);
        assert!(restored.take.is_none());
        assert_eq!(restored.problems.len(), 2, "{:?}", restored.problems);
        assert!(restored.problems[0].starts_with("source: ") && restored.problems[1].starts_with("take 1: "));
    }

    /// The state as the host saved it at some point, then the library (the instance) went on.
    fn saved_then_more(takes: &mut Takes) -> TakesManifest {
        takes.set_source(source()).unwrap();
        record(takes, 1);
        let saved = takes.publish().0;
        record(takes, 1);
        takes.publish().1.unwrap();
        TakesManifest::parse(&saved).unwrap().unwrap()
    }

    #[test]
    fn a_reopened_project_recovers_what_its_journal_holds_beyond_the_save() {
        let (dir, mut takes) = library();
        let saved = saved_then_more(&mut takes);
        let latest = takes.manifest().current;
        drop(takes); // the process died
        let mut reopened = Takes::new(dir.path().join("data"), dir.path().join("exports"), journal::new_id());
        let restored = reopened.restore(saved.clone());
        assert!(restored.recovered && restored.problems.is_empty(), "{:?}", restored.problems);
        assert_eq!(restored.take.map(|t| t.0), latest);
        assert_eq!(reopened.journal_id(), saved.journal.unwrap().id, "it goes on writing the same journal");
    }

    #[test]
    fn an_instance_given_an_older_state_of_its_own_keeps_it() {
        let (_dir, mut takes) = library();
        let saved = saved_then_more(&mut takes);
        // The host's undo, or a preset: the state it gives is the one to play.
        let restored = takes.restore(saved.clone());
        assert!(!restored.recovered);
        assert_eq!(takes.manifest().current, saved.current);
        let (value, _) = takes.publish();
        assert!(value["journal"]["seq"].as_u64().unwrap() > saved.journal.unwrap().seq, "the journal moves on");
    }

    #[test]
    fn a_duplicated_track_writes_its_own_journal() {
        let (dir, mut takes) = library();
        let saved = saved_then_more(&mut takes);
        // A second instance given the same state while the first still runs (the host duplicated the track).
        let mut copy = Takes::new(dir.path().join("data"), dir.path().join("exports"), journal::new_id());
        let restored = copy.restore(saved.clone());
        assert!(!restored.recovered, "the copy plays the state it was given");
        assert_ne!(copy.journal_id(), takes.journal_id());
        assert_eq!(copy.publish().0["journal"]["id"], copy.journal_id());
    }
}
