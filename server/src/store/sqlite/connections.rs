//! The SQLite connections: one writer thread that commits in groups, and a
//! pool of read-only connections.
//!
//! Every write runs on the writer thread inside its own savepoint. The thread
//! takes whatever writes are waiting (up to [`MAX_BATCH`]), runs them in one
//! transaction and commits once, so many acknowledged writes share one fsync
//! (`synchronous=FULL`). A write's caller hears back only after that commit:
//! nothing is acknowledged before it is durable. A write that fails is rolled
//! back to its savepoint and does not disturb the others in its group.
//!
//! Reads use their own connections (WAL lets them run beside the writer) and
//! see only committed data.

use std::{
    panic::AssertUnwindSafe,
    path::{Path, PathBuf},
    sync::{
        atomic::{AtomicU64, Ordering},
        mpsc, Arc, Mutex,
    },
};

use rusqlite::{Connection, OpenFlags};
use tokio::sync::oneshot;

use super::map_err;
use crate::store::{StoreError, StoreResult};

/// Most writes committed together.
pub const MAX_BATCH: usize = 512;
/// Read connections open at most (and reads running at once). Beyond this,
/// reads wait for a turn: a burst of thousands of socket joins once opened a
/// connection (and a blocking thread) for each, parsing the schema every time.
const MAX_READERS: usize = 8;

/// The answer to a write's caller, given once its group's commit is known.
type Reply = Box<dyn FnOnce(Option<StoreError>) + Send>;

/// A write waiting for the writer thread.
trait Job: Send {
    /// Runs the write; says whether it succeeded and how to answer its caller.
    fn run(self: Box<Self>, conn: &mut Connection) -> (bool, Reply);
    /// Answers the caller without running the write.
    fn fail(self: Box<Self>, e: StoreError);
}

struct Task<F, T> {
    f: F,
    tx: oneshot::Sender<StoreResult<T>>,
}

impl<F, T> Job for Task<F, T>
where
    F: FnOnce(&mut Connection) -> StoreResult<T> + Send,
    T: Send + 'static,
{
    fn run(self: Box<Self>, conn: &mut Connection) -> (bool, Reply) {
        let Task { f, tx } = *self;
        let result = f(conn);
        let ok = result.is_ok();
        let reply: Reply = Box::new(move |commit_error| {
            let _ = tx.send(match commit_error {
                Some(e) => Err(e),
                None => result,
            });
        });
        (ok, reply)
    }

    fn fail(self: Box<Self>, e: StoreError) {
        let _ = self.tx.send(Err(e));
    }
}

/// The handle to the writer thread. Dropping the last one ends the thread
/// after it has committed what it was given.
pub struct Writer {
    jobs: mpsc::Sender<Box<dyn Job>>,
    stats: Arc<WriterStats>,
}

/// Counters of the writer thread: how many writes shared how many commits.
#[derive(Debug, Default)]
pub struct WriterStats {
    /// Groups run (each one transaction).
    pub groups: AtomicU64,
    /// Writes run.
    pub writes: AtomicU64,
    /// Writes sent and not yet taken by the writer.
    pub queued: AtomicU64,
}

impl Writer {
    /// Starts the writer thread on an open, migrated connection.
    pub fn start(conn: Connection) -> StoreResult<Self> {
        let (jobs, rx) = mpsc::channel::<Box<dyn Job>>();
        let stats = Arc::new(WriterStats::default());
        let counters = stats.clone();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || run(conn, rx, &counters))
            .map_err(|e| StoreError::Internal(format!("cannot start the SQLite writer: {e}")))?;
        Ok(Self { jobs, stats })
    }

    /// The writer's counters.
    pub fn stats(&self) -> &WriterStats {
        &self.stats
    }

    /// Runs `f` on the writer connection and answers once it is committed.
    pub async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        let (tx, rx) = oneshot::channel();
        // Counted before it is sent, so the writer never takes more than were counted.
        let queued = self.stats.queued.fetch_add(1, Ordering::Relaxed) + 1;
        crate::telemetry::sqlite_queue_depth(queued as usize);
        if self.jobs.send(Box::new(Task { f, tx })).is_err() {
            self.stats.queued.fetch_sub(1, Ordering::Relaxed);
            return Err(StoreError::Unavailable("the SQLite writer has stopped".into()));
        }
        rx.await.map_err(|_| StoreError::Internal("a write was rolled back after a panic".into()))?
    }
}

/// The writer loop: wait for a write, take the others waiting, commit them as one.
fn run(mut conn: Connection, rx: mpsc::Receiver<Box<dyn Job>>, stats: &WriterStats) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        stats.groups.fetch_add(1, Ordering::Relaxed);
        stats.writes.fetch_add(batch.len() as u64, Ordering::Relaxed);
        let taken = batch.len() as u64;
        let left = stats.queued.fetch_sub(taken, Ordering::Relaxed).saturating_sub(taken);
        crate::telemetry::sqlite_queue_depth(left as usize);
        crate::telemetry::sqlite_commit_group(batch.len());
        let started = std::time::Instant::now();
        commit_group(&mut conn, batch);
        crate::telemetry::store_operation("sqlite", "commit", started.elapsed());
    }
}

/// Runs one statement without parameters from the statement cache (the
/// savepoint of every write, parsed once rather than per write).
fn run_cached(conn: &Connection, sql: &str) -> StoreResult<()> {
    conn.prepare_cached(sql).and_then(|mut s| s.execute([])).map(|_| ()).map_err(map_err)
}

fn rolled_back() -> StoreError {
    StoreError::Unavailable("the database rolled back a group of writes".into())
}

/// Runs `batch` in one transaction, each write in its own savepoint, and
/// answers every caller after the commit.
fn commit_group(conn: &mut Connection, batch: Vec<Box<dyn Job>>) {
    // Replies of writes inside the open transaction, waiting for its commit.
    let mut pending: Vec<Reply> = Vec::with_capacity(batch.len());
    for job in batch {
        if conn.is_autocommit() {
            if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE").map_err(map_err) {
                job.fail(e);
                continue;
            }
        }
        if let Err(e) = run_cached(conn, "SAVEPOINT job") {
            job.fail(e);
            continue;
        }
        let done = std::panic::catch_unwind(AssertUnwindSafe(|| job.run(conn)));
        if conn.is_autocommit() {
            // SQLite rolled the whole transaction back (I/O error, disk full):
            // the writes before this one are gone too; tell their callers.
            for reply in pending.drain(..) {
                reply(Some(rolled_back()));
            }
            if let Ok((ok, reply)) = done {
                reply(ok.then(rolled_back));
            }
            continue;
        }
        let ok = matches!(&done, Ok((true, _)));
        let settle = match ok {
            true => run_cached(conn, "RELEASE job"),
            false => run_cached(conn, "ROLLBACK TO job").and_then(|()| run_cached(conn, "RELEASE job")),
        };
        if let Err(e) = settle {
            tracing::error!(error = %e, "cannot settle a write's savepoint");
        }
        match done {
            Ok((true, reply)) => pending.push(reply),
            // A failed write answers at once: none of it is committed.
            Ok((false, reply)) => reply(None),
            // A panicking write drops its reply; its caller is told it was rolled back.
            Err(_) => tracing::error!("a SQLite write panicked; it was rolled back"),
        }
    }
    if conn.is_autocommit() {
        return;
    }
    match conn.execute_batch("COMMIT").map_err(map_err) {
        Ok(()) => pending.into_iter().for_each(|reply| reply(None)),
        Err(e) => {
            tracing::error!(error = %e, writes = pending.len(), "a group commit failed");
            if !conn.is_autocommit() {
                let _ = conn.execute_batch("ROLLBACK");
            }
            pending.into_iter().for_each(|reply| reply(Some(e.clone())));
        }
    }
}

/// Read-only connections to the database file, opened as needed and reused.
pub struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    turns: tokio::sync::Semaphore,
}

impl Readers {
    pub fn new(path: &Path) -> Arc<Self> {
        Arc::new(Self {
            path: path.to_path_buf(),
            idle: Mutex::new(Vec::new()),
            turns: tokio::sync::Semaphore::new(MAX_READERS),
        })
    }

    fn open(&self) -> StoreResult<Connection> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
        )
        .map_err(map_err)?;
        conn.busy_timeout(std::time::Duration::from_secs(5)).map_err(map_err)?;
        conn.set_prepared_statement_cache_capacity(super::STATEMENT_CACHE);
        super::tune(&conn)?;
        Ok(conn)
    }

    /// Runs `f` with a read connection on tokio's blocking pool, once one of
    /// the [`MAX_READERS`] turns is free.
    pub async fn read<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        let turn = self.turns.acquire().await.map_err(|_| StoreError::Internal("reader pool closed".into()))?;
        let readers = self.clone();
        let result = tokio::task::spawn_blocking(move || {
            let taken = readers.idle.lock().map_err(|_| StoreError::Internal("reader pool poisoned".into()))?.pop();
            let conn = match taken {
                Some(conn) => conn,
                None => readers.open()?,
            };
            let result = f(&conn);
            if let Ok(mut idle) = readers.idle.lock() {
                idle.push(conn);
            }
            result
        })
        .await
        .map_err(|e| StoreError::Internal(e.to_string()))?;
        drop(turn);
        result
    }

    /// How many read connections are open and idle.
    #[cfg(test)]
    pub fn idle_connections(&self) -> usize {
        self.idle.lock().map(|idle| idle.len()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(path: &Path) -> (Writer, Arc<Readers>) {
        let conn = Connection::open(path).unwrap();
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
        conn.execute_batch("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)").unwrap();
        (Writer::start(conn).unwrap(), Readers::new(path))
    }

    fn insert(k: i64) -> impl FnOnce(&mut Connection) -> StoreResult<()> + Send + 'static {
        move |c| {
            c.execute("INSERT INTO t (k, v) VALUES (?1, 'x')", [k]).map_err(map_err)?;
            Ok(())
        }
    }

    async fn count(readers: &Arc<Readers>) -> i64 {
        readers.read(|c| c.query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0)).map_err(map_err)).await.unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_burst_of_reads_uses_a_bounded_pool() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let dir = tempfile::tempdir().unwrap();
        let (_writer, readers) = open(&dir.path().join("t.sqlite3"));
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let reads = (0..200).map(|i| {
            let (readers, running, most) = (readers.clone(), running.clone(), most.clone());
            tokio::spawn(async move {
                readers
                    .read(move |conn| {
                        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        std::thread::sleep(std::time::Duration::from_millis(2));
                        let n: i64 = conn.query_row("SELECT ?1", [i], |r| r.get(0)).map_err(map_err)?;
                        running.fetch_sub(1, Ordering::SeqCst);
                        Ok(n)
                    })
                    .await
            })
        });
        let results: Vec<i64> =
            futures_util::future::join_all(reads).await.into_iter().map(|r| r.unwrap().unwrap()).collect();
        assert_eq!(results, (0..200).collect::<Vec<i64>>());
        assert!(most.load(Ordering::SeqCst) <= MAX_READERS, "{} reads at once", most.load(Ordering::SeqCst));
        assert!(readers.idle_connections() <= MAX_READERS);
    }

    #[tokio::test]
    async fn concurrent_writes_share_commits_and_a_failed_one_leaves_the_others() {
        let dir = tempfile::tempdir().unwrap();
        let (writer, readers) = open(&dir.path().join("w.sqlite3"));
        // 300 writes at once; every tenth repeats a key and must fail alone.
        let keys: Vec<i64> = (0..300).map(|i| if i % 10 == 9 { i - 1 } else { i }).collect();
        let results = futures_util::future::join_all(keys.iter().map(|k| writer.write(insert(*k)))).await;
        let failed = results.iter().filter(|r| matches!(r, Err(StoreError::Conflict(_)))).count();
        assert_eq!(failed, 30, "{results:?}");
        assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 270);
        assert_eq!(count(&readers).await, 270);
        let (groups, writes) =
            (writer.stats().groups.load(Ordering::Relaxed), writer.stats().writes.load(Ordering::Relaxed));
        assert_eq!(writes, 300);
        assert!(groups < writes, "no write shared a commit: {groups} groups");
    }

    #[tokio::test]
    async fn a_failed_write_is_rolled_back_whole() {
        let dir = tempfile::tempdir().unwrap();
        let (writer, readers) = open(&dir.path().join("w.sqlite3"));
        writer.write(insert(1)).await.unwrap();
        // Two statements, the second breaking a rule: the first must not stay.
        let both = writer
            .write(|c| {
                c.execute("INSERT INTO t (k, v) VALUES (2, 'x')", []).map_err(map_err)?;
                c.execute("INSERT INTO t (k, v) VALUES (1, 'x')", []).map_err(map_err)?;
                Ok(())
            })
            .await;
        assert!(matches!(both, Err(StoreError::Conflict(_))), "{both:?}");
        assert_eq!(count(&readers).await, 1);
    }

    #[tokio::test]
    async fn a_panicking_write_is_rolled_back_and_the_writer_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let (writer, readers) = open(&dir.path().join("w.sqlite3"));
        let panicking = writer.write(|c| -> StoreResult<()> {
            c.execute("INSERT INTO t (k, v) VALUES (7, 'x')", []).map_err(map_err)?;
            panic!("a bug in a write");
        });
        let (panicked, next) = tokio::join!(panicking, writer.write(insert(8)));
        assert!(panicked.is_err());
        next.unwrap();
        writer.write(insert(9)).await.unwrap();
        let keys: Vec<i64> = readers
            .read(|c| {
                let mut stmt = c.prepare("SELECT k FROM t ORDER BY k").map_err(map_err)?;
                let rows = stmt.query_map([], |r| r.get(0)).map_err(map_err)?;
                rows.collect::<rusqlite::Result<Vec<_>>>().map_err(map_err)
            })
            .await
            .unwrap();
        assert_eq!(keys, vec![8, 9]);
    }

    #[tokio::test]
    async fn what_a_write_acknowledged_is_on_disk_for_a_new_connection() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.sqlite3");
        let (writer, _) = open(&path);
        writer.write(insert(42)).await.unwrap();
        let fresh = Connection::open(&path).unwrap();
        let n: i64 = fresh.query_row("SELECT COUNT(*) FROM t WHERE k = 42", [], |r| r.get(0)).unwrap();
        assert_eq!(n, 1);
    }
}
