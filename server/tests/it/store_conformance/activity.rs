//! The audit trail: one entry per order, append-only.

use server::store::{sqlite::SqliteStore, ActivityStore, OrderStore, TenantStore};

use super::{activity, notification, order, tenant, Subject};

pub async fn order_activity_is_recorded_once_per_order(s: Subject) {
    let a = tenant("a");
    let b = tenant("b");
    s.store.insert_tenant(&a).await.unwrap();
    s.store.insert_tenant(&b).await.unwrap();
    let o = order(&a.id, "ACT-1");
    let entry = activity(&o);
    s.store.create_order(&o, &notification(&o), &entry).await.unwrap();
    let again = order(&a.id, "ACT-1");
    s.store.create_order(&again, &notification(&again), &activity(&again)).await.unwrap();
    assert_eq!(s.store.list_activity(&a.id, 10).await.unwrap(), vec![entry], "every field round-trips, once");
    assert!(s.store.list_activity(&b.id, 10).await.unwrap().is_empty());
}

/// SQLite enforces the audit trail's append-only rule itself.
#[tokio::test]
async fn sqlite_activity_log_refuses_updates_and_deletes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.sqlite3");
    let store = SqliteStore::open(&path).await.unwrap();
    let t = tenant("acme");
    store.insert_tenant(&t).await.unwrap();
    let o = order(&t.id, "AO-1");
    store.create_order(&o, &notification(&o), &activity(&o)).await.unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    let update = conn.execute("UPDATE activity_log SET action = 'forged'", []);
    assert!(update.unwrap_err().to_string().contains("append-only"));
    let delete = conn.execute("DELETE FROM activity_log", []);
    assert!(delete.unwrap_err().to_string().contains("append-only"));
    assert_eq!(store.list_activity(&t.id, 10).await.unwrap().len(), 1);
}
