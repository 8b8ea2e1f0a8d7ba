//! WAL checkpoints on a thread of their own, not on the writer's.
//!
//! By default SQLite checkpoints inside the commit that takes the WAL past
//! 1,000 pages: that commit copies the pages into the database file and
//! `fsync`s it before its callers hear back, and every write queued behind it
//! waits. Here the writer's WAL hook only wakes the `sqlite-checkpoint`
//! thread, which runs a passive checkpoint on a connection of its own while
//! the writer goes on (unless the WAL has grown past
//! [`WRITER_CHECKPOINT_PAGES`]: then the writer checkpoints, as SQLite did,
//! so that the WAL starts again). What a commit makes durable is unchanged:
//! a commit is durable once its WAL frames are synced, before and after this;
//! a checkpoint only moves committed pages into the database file (and syncs
//! it) so that the WAL can start again from its beginning.

use std::{
    ffi::c_int,
    path::PathBuf,
    sync::{
        atomic::{AtomicU64, Ordering},
        mpsc, Arc,
    },
    time::Duration,
};

use rusqlite::{hooks::Wal, Connection};

use super::map_err;
use crate::{
    store::{StoreError, StoreResult},
    telemetry::Throttle,
};

/// WAL pages after which the checkpoint thread is woken: 16 MiB of 4 KiB
/// pages, four times SQLite's own threshold. A checkpoint copies each page
/// once however many commits rewrote it (the B-trees' newest leaves are in
/// every commit), so a longer WAL copies less per webhook (BENCHMARKS.md).
pub const CHECKPOINT_PAGES: c_int = 4000;

/// WAL pages after which the writer checkpoints itself, as SQLite would.
/// The WAL starts again from its beginning only when a write begins with
/// every page copied; while the writer never pauses, a checkpoint running
/// beside it always ends a few commits behind, and the WAL would grow
/// without end (a test saw 600 MB). The writer's own checkpoint copies
/// everything (no commit runs during it), so the next write starts the WAL
/// again.
pub const WRITER_CHECKPOINT_PAGES: c_int = 4 * CHECKPOINT_PAGES;

/// What a commit that left `pages` in the WAL does, beyond itself.
#[derive(Debug, PartialEq)]
enum AfterCommit {
    Nothing,
    WakeTheThread,
    CheckpointHere,
}

fn after_commit(pages: c_int) -> AfterCommit {
    match pages {
        p if p >= WRITER_CHECKPOINT_PAGES => AfterCommit::CheckpointHere,
        p if p >= CHECKPOINT_PAGES => AfterCommit::WakeTheThread,
        _ => AfterCommit::Nothing,
    }
}

/// Failed checkpoints are logged at most once a minute.
static FAILURES: Throttle = Throttle::new(Duration::from_secs(60));

fn log_failure(e: &rusqlite::Error, by: &str) {
    if let Some(unlogged) = FAILURES.note() {
        tracing::warn!(error = %e, by, unlogged, "a WAL checkpoint failed; a later commit asks again");
    }
}

/// Starts the checkpoint thread of `writer`'s database and hands it the
/// checkpoints (see [`WRITER_CHECKPOINT_PAGES`] for the exception). Returns
/// the count of the thread's checkpoints that copied the whole WAL. A
/// database in memory has no WAL: nothing starts. The thread ends when
/// `writer` is dropped.
pub fn start(writer: &mut Connection) -> StoreResult<Arc<AtomicU64>> {
    let complete = Arc::new(AtomicU64::new(0));
    let Some(path) = writer.path().filter(|p| !p.is_empty()).map(PathBuf::from) else {
        return Ok(complete);
    };
    let conn = Connection::open(&path).map_err(map_err)?;
    conn.pragma_update(None, "synchronous", "FULL").map_err(map_err)?;
    let (wake, woken) = mpsc::sync_channel::<()>(1);
    let counted = complete.clone();
    std::thread::Builder::new()
        .name("sqlite-checkpoint".into())
        .spawn(move || {
            // Wakes queue at most one more run: a checkpoint asked for while one runs is not lost.
            while woken.recv().is_ok() {
                // (busy, pages in the WAL, pages copied): busy when a reader or the writer held it back.
                let ran = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
                    Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
                });
                match ran {
                    Ok((0, pages, copied)) if pages == copied => _ = counted.fetch_add(1, Ordering::Relaxed),
                    Ok(_) => {}
                    Err(e) => log_failure(&e, "sqlite-checkpoint"),
                }
            }
        })
        .map_err(|e| StoreError::Internal(format!("cannot start the SQLite checkpoint thread: {e}")))?;
    // Replaces SQLite's own checkpoint-in-commit (which is this same hook). It
    // never fails: an error here would make a commit that happened report failure.
    writer
        .wal_hook(Some(move |wal: &mut Wal, pages: c_int| {
            let here = match after_commit(pages) {
                AfterCommit::Nothing => false,
                // A thread that is gone (it panicked) leaves the checkpoints to the writer.
                AfterCommit::WakeTheThread => matches!(wake.try_send(()), Err(mpsc::TrySendError::Disconnected(_))),
                AfterCommit::CheckpointHere => true,
            };
            if here {
                if let Err(e) = wal.checkpoint() {
                    log_failure(&e, "sqlite-writer");
                }
            }
            Ok(())
        }))
        .map_err(map_err)?;
    Ok(complete)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    /// A WAL-mode database with one table, its writer handing checkpoints to the thread.
    fn writer_at(path: &Path) -> (Connection, Arc<AtomicU64>) {
        let mut writer = Connection::open(path).unwrap();
        writer.pragma_update(None, "journal_mode", "WAL").unwrap();
        writer.execute_batch("CREATE TABLE t (k INTEGER PRIMARY KEY, v BLOB NOT NULL)").unwrap();
        let complete = start(&mut writer).unwrap();
        (writer, complete)
    }

    /// (pages in the WAL, pages of it copied into the database file).
    fn wal_state(conn: &Connection) -> (i64, i64) {
        conn.query_row("PRAGMA wal_checkpoint(NOOP)", [], |r| Ok((r.get(1)?, r.get(2)?))).unwrap()
    }

    fn insert(conn: &Connection, k: i64) {
        conn.execute("INSERT INTO t VALUES (?1, zeroblob(3000))", [k]).unwrap();
    }

    #[test]
    fn a_commit_wakes_the_thread_past_its_threshold_and_checkpoints_itself_past_four_times_that() {
        assert_eq!(after_commit(CHECKPOINT_PAGES - 1), AfterCommit::Nothing);
        assert_eq!(after_commit(CHECKPOINT_PAGES), AfterCommit::WakeTheThread);
        assert_eq!(after_commit(WRITER_CHECKPOINT_PAGES - 1), AfterCommit::WakeTheThread);
        assert_eq!(after_commit(WRITER_CHECKPOINT_PAGES), AfterCommit::CheckpointHere);
    }

    #[test]
    fn past_the_threshold_the_thread_copies_the_whole_wal_into_the_database_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.db");
        let (writer, complete) = writer_at(&path);
        let before = std::fs::metadata(&path).unwrap().len();
        // A page or two a commit, until the WAL is past the threshold; then no more writes.
        let mut k = 0;
        while wal_state(&writer).0 < i64::from(CHECKPOINT_PAGES) {
            k += 1;
            insert(&writer, k);
        }
        // Wait for the thread's checkpoint (an event; the deadline only bounds a failure).
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while complete.load(Ordering::Relaxed) == 0 {
            assert!(std::time::Instant::now() < deadline, "the checkpoint thread never copied the WAL");
            std::thread::sleep(Duration::from_millis(5));
        }
        let (pages, copied) = wal_state(&writer);
        assert_eq!(copied, pages, "every page is in the database file");
        let after = std::fs::metadata(&path).unwrap().len();
        assert!(after >= before + (1 << 20), "the rows are in the database file: {before} -> {after} bytes");
    }

    #[test]
    fn a_writer_that_never_pauses_keeps_the_wal_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.db");
        let (writer, _) = writer_at(&path);
        // No sync, so that commits come as fast as SQLite makes them: the thread's checkpoints
        // always end a few commits behind, and only the writer's own lets the WAL start again.
        writer.pragma_update(None, "synchronous", "OFF").unwrap();
        for k in 1..=i64::from(3 * WRITER_CHECKPOINT_PAGES) {
            insert(&writer, k);
        }
        let wal = std::fs::metadata(dir.path().join("c.db-wal")).unwrap().len();
        let bound = 2 * u64::try_from(WRITER_CHECKPOINT_PAGES).unwrap() * (4096 + 24);
        assert!(wal <= bound, "the WAL grew to {wal} bytes (bound {bound})");
    }

    #[test]
    fn a_database_in_memory_has_no_checkpoint_thread() {
        let mut conn = Connection::open_in_memory().unwrap();
        assert_eq!(start(&mut conn).unwrap().load(Ordering::Relaxed), 0);
    }
}
