//! WAL checkpoints on a thread of their own, not on the writer's.
//!
//! By default SQLite checkpoints inside the commit that takes the WAL past
//! 1,000 pages: that commit copies the pages into the database file and
//! `fsync`s it before its callers hear back, and every write queued behind it
//! waits. Here the writer's WAL hook only wakes the `sqlite-checkpoint`
//! thread, which runs a passive checkpoint on a connection of its own while
//! the writer goes on. What a commit makes durable is unchanged: a commit is
//! durable once its WAL frames are synced, before and after this; a
//! checkpoint only moves committed pages into the database file (and syncs
//! it) so that the WAL can start again from its beginning.

use std::{
    ffi::c_int,
    path::PathBuf,
    sync::{
        atomic::{AtomicU64, Ordering},
        mpsc, Arc,
    },
};

use rusqlite::{hooks::Wal, Connection};

use super::map_err;
use crate::store::{StoreError, StoreResult};

/// WAL pages after which the checkpoint thread is woken: 16 MiB of 4 KiB
/// pages, four times SQLite's own threshold. A checkpoint copies each page
/// once however many commits rewrote it (the B-trees' newest leaves are in
/// every commit), so a longer WAL copies less per webhook: ingest gained
/// 2-4 % over 1,000 (BENCHMARKS.md), for a WAL file that stays at ~16 MiB.
pub const CHECKPOINT_PAGES: c_int = 4000;

/// Starts the checkpoint thread of `writer`'s database and hands it the
/// checkpoints: from now on, `writer`'s commits never run one. Returns the
/// count of checkpoints run. A database in memory has no WAL: nothing starts.
/// The thread ends when `writer` is dropped.
pub fn start(writer: &mut Connection) -> StoreResult<Arc<AtomicU64>> {
    let runs = Arc::new(AtomicU64::new(0));
    let Some(path) = writer.path().filter(|p| !p.is_empty()).map(PathBuf::from) else {
        return Ok(runs);
    };
    let conn = Connection::open(&path).map_err(map_err)?;
    conn.pragma_update(None, "synchronous", "FULL").map_err(map_err)?;
    let (wake, woken) = mpsc::sync_channel::<()>(1);
    let counted = runs.clone();
    std::thread::Builder::new()
        .name("sqlite-checkpoint".into())
        .spawn(move || {
            // Wakes queue at most one more run: a checkpoint asked for while one runs is not lost.
            while woken.recv().is_ok() {
                if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                    tracing::warn!(error = %e, "a WAL checkpoint failed; the next commit asks again");
                }
                counted.fetch_add(1, Ordering::Relaxed);
            }
        })
        .map_err(|e| StoreError::Internal(format!("cannot start the SQLite checkpoint thread: {e}")))?;
    // Replaces SQLite's own checkpoint-in-commit (which is this same hook).
    writer
        .wal_hook(Some(move |_: &mut Wal, pages: c_int| {
            if pages >= CHECKPOINT_PAGES {
                let _ = wake.try_send(());
            }
            Ok(())
        }))
        .map_err(map_err)?;
    Ok(runs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn past_the_threshold_the_thread_moves_the_wal_into_the_database_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.db");
        let mut writer = Connection::open(&path).unwrap();
        writer.pragma_update(None, "journal_mode", "WAL").unwrap();
        writer.execute_batch("CREATE TABLE t (k INTEGER PRIMARY KEY, v BLOB NOT NULL)").unwrap();
        let runs = start(&mut writer).unwrap();
        let file_size = || std::fs::metadata(&path).unwrap().len();
        let before = file_size();
        // A page a commit: until the thread has run (an event, not a time), the file stays as it was.
        let mut commits = 0;
        while runs.load(Ordering::Relaxed) == 0 {
            assert!(commits < 100 * i64::from(CHECKPOINT_PAGES), "the checkpoint thread never ran");
            commits += 1;
            writer.execute("INSERT INTO t VALUES (?1, zeroblob(3000))", [commits]).unwrap();
            if commits % 100 == 0 {
                std::thread::yield_now();
            }
        }
        assert!(commits >= i64::from(CHECKPOINT_PAGES) / 4, "woken only past the threshold ({commits} commits)");
        assert!(file_size() >= before + (1 << 20), "the rows are in the database file: {} bytes", file_size());
        // The thread ends with the writer.
        drop(writer);
    }

    #[test]
    fn a_database_in_memory_has_no_checkpoint_thread() {
        let mut conn = Connection::open_in_memory().unwrap();
        assert_eq!(start(&mut conn).unwrap().load(Ordering::Relaxed), 0);
    }
}
