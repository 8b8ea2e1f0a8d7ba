//! Store hot-path benchmark, run against both stores (a bench binary, not criterion):
//!
//! 1. create an order with its notification and audit entry (the webhook's write), sequentially;
//! 2. list the latest 50 notifications of a tenant holding 100,000;
//! 3. mark all read on a tenant with 10,000 unread;
//! 4. a team: 50 readers of the 100,000 (half of them marked all read before the
//!    last 1,000, each read 20 and dismissed 5 one by one): one reader's latest
//!    50 and unread count, and a mark-all-read of a reader with 100,000 unread.
//!
//! Run with `scripts/bench-store.sh` (it starts SecantusDB for the MongoDB
//! figures). Prints a Markdown table for BENCHMARKS.md.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use app::models::{ActivityEntry, Notification, NotificationType, Order, OrderStatus, Priority};
use server::{
    ids,
    store::{mongo::MongoStore, sqlite::SqliteStore, Store, Tenant},
};

const DAY: Duration = Duration::from_secs(86_400);

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn tenant() -> Tenant {
    Tenant {
        id: ids::new_id(),
        name: "bench".into(),
        slug: format!("bench-{}", ids::new_id::<String>()),
        webhook_secret_sealed: "v1.bench".into(),
        webhook_settings: Default::default(),
        previous_secret: None,
        created_at: ids::now(),
    }
}

fn order(tenant_id: &str, i: usize) -> Order {
    let now = ids::now();
    Order {
        id: ids::new_id(),
        tenant_id: tenant_id.into(),
        order_number: format!("B-{i}"),
        customer_name: Some("Ada Lovelace".into()),
        customer_email: Some("ada@example.com".into()),
        amount_minor: 9999,
        currency: "USD".into(),
        status: OrderStatus::Paid,
        payment_status: app::models::PaymentStatus::Paid,
        payment_id: None,
        items: vec![],
        metadata: serde_json::json!({"source": "bench"}),
        created_at: now,
        updated_at: now,
    }
}

fn notification(tenant_id: &str, i: usize) -> Notification {
    Notification {
        id: ids::new_id(),
        tenant_id: tenant_id.into(),
        user_id: None,
        title: format!("Notification {i}"),
        message: "Something happened".into(),
        kind: NotificationType::Info,
        priority: Priority::Medium,
        action_url: None,
        action_text: None,
        metadata: serde_json::json!({"i": i}),
        is_read: false,
        is_dismissed: false,
        read_at: None,
        delivered_at: None,
        created_at: ids::now(),
        snoozed_until: None,
    }
}

struct Stats {
    samples: Vec<Duration>,
}

impl Stats {
    fn pct(&self, p: f64) -> Duration {
        let mut s = self.samples.clone();
        s.sort();
        s[((s.len() as f64 - 1.0) * p).round() as usize]
    }
    fn mean(&self) -> Duration {
        self.samples.iter().sum::<Duration>() / self.samples.len() as u32
    }
    fn row(&self, store: &str, op: &str) -> String {
        format!(
            "| {store} | {op} | {} | {:.2} | {:.2} | {:.2} | {:.0} |",
            self.samples.len(),
            self.mean().as_secs_f64() * 1e3,
            self.pct(0.5).as_secs_f64() * 1e3,
            self.pct(0.99).as_secs_f64() * 1e3,
            1.0 / self.mean().as_secs_f64(),
        )
    }
}

async fn seed(store: &dyn Store, tenant_id: &str, count: usize) {
    for start in (0..count).step_by(5_000) {
        let batch: Vec<Notification> =
            (start..(start + 5_000).min(count)).map(|i| notification(tenant_id, i)).collect();
        store.insert_notifications(&batch).await.expect("seed");
    }
}

/// `queries`: how many latest-50 reads to time (SecantusDB, a Python server,
/// scans for sorted reads, so its run uses fewer).
async fn bench(name: &str, store: Arc<dyn Store>, queries: usize) -> Vec<String> {
    let creates = env_usize("BENCH_CREATES", 500);
    let big = env_usize("BENCH_BIG_TENANT", 100_000);
    let mark = env_usize("BENCH_MARK_ALL", 10_000);
    let mut rows = Vec::new();

    // 1. create order + notification.
    let t = tenant();
    store.insert_tenant(&t).await.unwrap();
    let mut samples = Vec::with_capacity(creates);
    for i in 0..creates {
        let o = order(&t.id, i);
        let n = notification(&t.id, i);
        let a = ActivityEntry {
            id: ids::new_id(),
            tenant_id: t.id.clone(),
            actor: "webhook:orders".into(),
            action: "order.created".into(),
            entity: "order".into(),
            entity_id: o.id.to_string(),
            details: serde_json::json!({"orderNumber": o.order_number}),
            source_ip: Some("127.0.0.1".into()),
            created_at: o.created_at,
        };
        let start = Instant::now();
        store.create_order(&o, &n, &a).await.unwrap();
        samples.push(start.elapsed());
    }
    rows.push(Stats { samples }.row(name, "create order + notification + activity"));
    eprintln!("{}", rows.last().unwrap());

    // 2. latest 50 of a tenant holding `big`.
    let t = tenant();
    store.insert_tenant(&t).await.unwrap();
    let seeding = Instant::now();
    seed(store.as_ref(), &t.id, big).await;
    eprintln!("{name}: seeded {big} notifications in {:.1}s", seeding.elapsed().as_secs_f64());
    let mut samples = Vec::new();
    for _ in 0..queries {
        let start = Instant::now();
        let got = store.list_notifications(&t.id, &Default::default(), None, 50).await.unwrap();
        samples.push(start.elapsed());
        assert_eq!(got.len(), 50);
    }
    rows.push(Stats { samples }.row(name, &format!("latest 50 of {big}")));
    eprintln!("{}", rows.last().unwrap());
    rows.extend(team(name, store.as_ref(), &t.id, big, queries).await);

    // 3. mark all read on `mark` unread, three fresh tenants.
    let mut samples = Vec::new();
    for _ in 0..3 {
        let t = tenant();
        store.insert_tenant(&t).await.unwrap();
        seed(store.as_ref(), &t.id, mark).await;
        let start = Instant::now();
        let changed = store.mark_all_read(&t.id, None, ids::now()).await.unwrap();
        samples.push(start.elapsed());
        assert_eq!(changed as usize, mark);
    }
    rows.push(Stats { samples }.row(name, &format!("mark all read ({mark})")));
    rows
}

/// Section 4: per-reader state in the tenant `t` that holds `big` notifications.
async fn team(name: &str, store: &dyn Store, t: &app::models::TenantId, big: usize, queries: usize) -> Vec<String> {
    use app::models::{NotificationFilter, NotificationPatch, UserId};
    let readers: Vec<UserId> = (0..50).map(|_| ids::new_id()).collect();
    for r in &readers[..25] {
        store.mark_all_read(t, Some(r), ids::now()).await.unwrap();
    }
    seed(store, t, 1_000).await;
    let recent = store.list_notifications(t, &NotificationFilter::default(), None, 100).await.unwrap();
    let read = NotificationPatch { is_read: Some(true), ..Default::default() };
    let dismiss = NotificationPatch { is_dismissed: Some(true), ..Default::default() };
    for r in &readers {
        for (i, n) in recent.iter().take(25).enumerate() {
            let patch = if i < 20 { &read } else { &dismiss };
            store.update_notification(t, &n.id, Some(r), patch, ids::now()).await.unwrap();
        }
    }
    let mut rows = Vec::new();
    let total = big + 1_000;
    for (who, reader) in [("marked", &readers[7]), ("never marked", &readers[30])] {
        let view = NotificationFilter { user_id: Some(reader.clone()), ..Default::default() };
        let mut samples = Vec::new();
        for _ in 0..queries {
            let start = Instant::now();
            let got = store.list_notifications(t, &view, None, 50).await.unwrap();
            samples.push(start.elapsed());
            assert_eq!(got.len(), 50);
        }
        rows.push(Stats { samples }.row(name, &format!("team of 50, {total}: latest 50 of a reader ({who})")));
        let mut samples = Vec::new();
        for _ in 0..queries {
            let start = Instant::now();
            store.unread_count(t, Some(reader)).await.unwrap();
            samples.push(start.elapsed());
        }
        rows.push(Stats { samples }.row(name, &format!("team of 50, {total}: unread count of a reader ({who})")));
        eprintln!("{}", rows.last().unwrap());
    }
    let mut samples = Vec::new();
    for r in &readers[40..43] {
        let start = Instant::now();
        let changed = store.mark_all_read(t, Some(r), ids::now()).await.unwrap();
        samples.push(start.elapsed());
        assert_eq!(changed as usize, total - 25, "every unread one of theirs");
    }
    rows.push(
        Stats { samples }.row(name, &format!("team of 50, {total}: mark all read of a reader ({} unread)", total - 25)),
    );
    eprintln!("{}", rows.last().unwrap());
    rows
}

#[tokio::main]
async fn main() {
    // `cargo bench` passes --bench; nothing else is accepted.
    let dir = tempfile::tempdir().unwrap();
    let mut rows = Vec::new();
    let sqlite = SqliteStore::open(dir.path().join("bench.sqlite3")).await.unwrap();
    rows.extend(bench("sqlite", Arc::new(sqlite), env_usize("BENCH_QUERIES", 200)).await);
    match std::env::var("HOOKBELL_BENCH_MONGODB_URI") {
        Ok(uri) => {
            let wc = server::store::mongo::parse_write_concern(None).unwrap();
            let mongo = MongoStore::connect(&uri, wc, DAY).await.expect("connect to MongoDB");
            rows.extend(bench("mongodb (SecantusDB)", Arc::new(mongo), env_usize("BENCH_MONGO_QUERIES", 5)).await);
        }
        Err(_) => eprintln!("HOOKBELL_BENCH_MONGODB_URI unset: MongoDB skipped (scripts/bench-store.sh sets it)"),
    }
    println!("| store | operation | runs | mean ms | p50 ms | p99 ms | ops/s |");
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    for r in rows {
        println!("{r}");
    }
}
