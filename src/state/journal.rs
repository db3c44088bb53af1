//! The recovery journal: the latest takes manifest of each instance, written to the data folder every
//! time it changes, so what was captured or rendered after the host last saved the project survives a
//! crash (or closing without saving). The project's state names its journal (`journal.id`) and how far
//! it had got when saved (`journal.seq`); reopened, a journal further along is brought back.
//!
//! A duplicated track loads the same state into two instances: the second to claim an id in this
//! process writes under a new one from then on, so they never overwrite each other's journal.

use super::manifest::TakesManifest;
use crate::shared::Shared;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Folder of the journals inside the data folder.
const FOLDER: &str = "journal";

/// Which journal a manifest belongs to, and how far along it it was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalTag {
    /// Random, hex; names the journal file.
    pub id: String,
    /// Bumped on every change of the manifest.
    pub seq: u64,
}

/// A new random journal id (128 bits, hex).
pub fn new_id() -> String {
    format!("{:032x}", rand::random::<u128>())
}

/// The journal id of an instance (made now if it has none yet).
pub fn instance_id(shared: &Shared) -> String {
    shared.journal_id.lock().get_or_insert_with(new_id).clone()
}

/// Ids written by live instances of this process.
static CLAIMED: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Claims `id` for one instance; `false` when another live instance of this process has it.
pub fn claim(id: &str) -> bool {
    let mut claimed = CLAIMED.lock();
    if claimed.iter().any(|c| c == id) {
        return false;
    }
    claimed.push(id.to_owned());
    true
}

/// Gives `id` back (the instance went, or moved to another id).
pub fn release(id: &str) {
    CLAIMED.lock().retain(|c| c != id);
}

fn path(data_dir: &Path, id: &str) -> PathBuf {
    data_dir.join(FOLDER).join(format!("{id}.json"))
}

/// Writes `manifest` as its journal (it must carry a tag): a temporary file, synced, renamed, so a
/// crash leaves the previous journal or this one, whole.
pub fn write(data_dir: &Path, manifest: &TakesManifest) -> Result<(), String> {
    let tag = manifest.journal.as_ref().ok_or("the manifest has no journal id")?;
    let path = path(data_dir, &tag.id);
    let dir = path.parent().expect("a journal path has a folder");
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {} ({e})", dir.display()))?;
    let mut tmp =
        tempfile::NamedTempFile::new_in(dir).map_err(|e| format!("cannot write in {} ({e})", dir.display()))?;
    let bytes = serde_json::to_vec(&manifest.to_value()).expect("a manifest always serializes");
    tmp.write_all(&bytes)
        .and_then(|_| tmp.as_file().sync_all())
        .map_err(|e| format!("cannot write the journal ({e})"))?;
    tmp.persist(&path).map_err(|e| format!("cannot write {} ({})", path.display(), e.error))?;
    #[cfg(unix)]
    let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
    Ok(())
}

/// The journal of a saved manifest when it got further than the saved state: what was captured or
/// rendered after the save. `None` when there is none, it is not further, or it cannot be read (a
/// damaged journal is no reason to refuse the project's own state).
pub fn newer_than(data_dir: &Path, saved: &JournalTag) -> Option<TakesManifest> {
    let text = std::fs::read(path(data_dir, &saved.id)).ok()?;
    let value: serde_json::Value = serde_json::from_slice(&text).ok()?;
    let journal = TakesManifest::parse(&value).ok()??;
    let tag = journal.journal.as_ref()?;
    (tag.id == saved.id && tag.seq > saved.seq).then_some(journal)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(id: &str, seq: u64) -> TakesManifest {
        TakesManifest { journal: Some(JournalTag { id: id.into(), seq }), ..TakesManifest::default() }
    }

    #[test]
    fn a_journal_further_than_the_saved_state_is_found_and_no_other() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), &manifest("ab", 5)).unwrap();
        let saved = |seq| JournalTag { id: "ab".into(), seq };
        assert_eq!(newer_than(dir.path(), &saved(4)), Some(manifest("ab", 5)));
        assert_eq!(newer_than(dir.path(), &saved(5)), None, "saved as far as the journal got");
        assert_eq!(newer_than(dir.path(), &JournalTag { id: "cd".into(), seq: 0 }), None, "no journal");
    }

    #[test]
    fn a_damaged_or_foreign_journal_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(FOLDER)).unwrap();
        std::fs::write(path(dir.path(), "ab"), b"{\"format\": \"redance-ta").unwrap();
        assert_eq!(newer_than(dir.path(), &JournalTag { id: "ab".into(), seq: 0 }), None);
        // A journal renamed from another id does not count for this one.
        write(dir.path(), &manifest("ef", 9)).unwrap();
        std::fs::rename(path(dir.path(), "ef"), path(dir.path(), "ab")).unwrap();
        assert_eq!(newer_than(dir.path(), &JournalTag { id: "ab".into(), seq: 0 }), None);
    }

    #[test]
    fn an_id_is_claimed_once_per_process() {
        let id = new_id();
        assert_eq!(id.len(), 32);
        assert!(claim(&id));
        assert!(!claim(&id), "a second instance with the same id");
        release(&id);
        assert!(claim(&id));
        release(&id);
    }
}
