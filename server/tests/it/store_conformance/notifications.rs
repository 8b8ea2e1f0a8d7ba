//! Notifications: tenant scoping, filters and pages, reads, dismissals, deliveries and unread counts.

use app::models::{
    ActivityEntry, Notification, NotificationFilter, NotificationId, NotificationPatch, NotificationType, PageCursor,
    Priority, UserId,
};
use server::{
    ids,
    store::{sqlite::SqliteStore, NotificationStore, TenantStore},
};

use super::{activity, all, notification, order, tenant, ts, Subject, Timestamp};

pub async fn queries_never_cross_tenants(s: Subject) {
    let a = tenant("a");
    let b = tenant("b");
    s.store.insert_tenant(&a).await.unwrap();
    s.store.insert_tenant(&b).await.unwrap();
    for i in 0..3 {
        let o = order(&a.id, &format!("A-{i}"));
        s.store.create_order(&o, &notification(&o), &activity(&o)).await.unwrap();
    }
    let o = order(&b.id, "B-0");
    s.store.create_order(&o, &notification(&o), &activity(&o)).await.unwrap();
    assert_eq!(s.store.unread_count(&a.id, None).await.unwrap(), 3);
    assert_eq!(s.store.unread_count(&b.id, None).await.unwrap(), 1);
    let latest_b = s.store.list_notifications(&b.id, &all(), None, 50).await.unwrap();
    assert_eq!(latest_b.len(), 1);
    assert!(latest_b.iter().all(|n| n.tenant_id == b.id));
    assert!(s.store.list_notifications(&a.id, &all(), None, 50).await.unwrap().iter().all(|n| n.tenant_id == a.id));
    assert_eq!(s.store.unread_count(&ids::new_id(), None).await.unwrap(), 0);
}

pub async fn latest_is_newest_first_and_limited(s: Subject) {
    let t = tenant("acme");
    s.store.insert_tenant(&t).await.unwrap();
    for i in 0..5 {
        let mut o = order(&t.id, &format!("N-{i}"));
        o.created_at = ts(&format!("2026-01-01T00:00:0{i}.000Z"));
        s.store.create_order(&o, &notification(&o), &activity(&o)).await.unwrap();
    }
    let latest = s.store.list_notifications(&t.id, &all(), None, 3).await.unwrap();
    let titles: Vec<&str> = latest.iter().map(|n| n.title.as_str()).collect();
    assert_eq!(titles, ["New order N-4", "New order N-3", "New order N-2"]);
}

pub async fn bulk_insert_and_mark_all_read(s: Subject) {
    let a = tenant("a");
    let b = tenant("b");
    s.store.insert_tenant(&a).await.unwrap();
    s.store.insert_tenant(&b).await.unwrap();
    let o = order(&a.id, "X");
    let batch: Vec<Notification> = (0..25)
        .map(|i| {
            let mut n = notification(&o);
            n.id = ids::new_id();
            n.title = format!("bulk {i}");
            n
        })
        .collect();
    s.store.insert_notifications(&batch).await.unwrap();
    s.store.insert_notifications(&[]).await.unwrap();
    let ob = order(&b.id, "Y");
    s.store.create_order(&ob, &notification(&ob), &activity(&ob)).await.unwrap();
    // A notification for one user does not count tenant-wide.
    let mut personal = notification(&o);
    personal.id = ids::new_id();
    personal.user_id = Some("user-1".into());
    s.store.insert_notifications(&[personal]).await.unwrap();
    assert_eq!(s.store.unread_count(&a.id, None).await.unwrap(), 25);

    let at = ts("2026-02-03T04:05:06.789Z");
    assert_eq!(s.store.mark_all_read(&a.id, None, at).await.unwrap(), 25);
    assert_eq!(s.store.unread_count(&a.id, None).await.unwrap(), 0);
    assert_eq!(s.store.mark_all_read(&a.id, None, at).await.unwrap(), 0, "idempotent");
    assert_eq!(s.store.unread_count(&b.id, None).await.unwrap(), 1, "other tenants untouched");
    let as_tenant = s.store.list_notifications(&a.id, &all(), None, 50).await.unwrap();
    assert_eq!(as_tenant.len(), 25);
    assert!(as_tenant.iter().all(|n| n.is_read && n.read_at == Some(at)));
    // The tenant's mark is its own: user-1 still has all of it unread, their own too.
    let viewer = NotificationFilter { user_id: Some("user-1".into()), ..all() };
    let latest = s.store.list_notifications(&a.id, &viewer, None, 50).await.unwrap();
    assert_eq!(latest.len(), 26);
    assert!(latest.iter().all(|n| !n.is_read && n.read_at.is_none()));
    assert_eq!(s.store.unread_count(&a.id, Some(&"user-1".into())).await.unwrap(), 26);
}

/// A notification of tenant `t` at `at`, with the given state.
pub(super) fn note(
    t: &str,
    at: Timestamp,
    kind: NotificationType,
    priority: Priority,
    user: Option<&str>,
) -> Notification {
    Notification {
        id: ids::new_id(),
        tenant_id: t.into(),
        user_id: user.map(UserId::from),
        title: format!("{} {}", kind.as_str(), at),
        message: "m".into(),
        kind,
        priority,
        action_url: None,
        action_text: None,
        metadata: serde_json::json!({}),
        is_read: false,
        is_dismissed: false,
        read_at: None,
        delivered_at: None,
        created_at: at,
        snoozed_until: None,
    }
}

fn ids_of(list: &[Notification]) -> Vec<&str> {
    list.iter().map(|n| n.id.as_str()).collect()
}

pub async fn notifications_filter_and_paginate(s: Subject) {
    let a = tenant("a");
    let b = tenant("b");
    s.store.insert_tenant(&a).await.unwrap();
    s.store.insert_tenant(&b).await.unwrap();
    use NotificationType::*;
    use Priority::*;
    let mut rows = Vec::new();
    // Three share one timestamp, so the cursor must order by id within it.
    for (i, (kind, priority)) in
        [(Info, Low), (Error, Urgent), (Warning, High), (Info, Medium)].into_iter().cycle().take(12).enumerate()
    {
        let at = format!("2026-03-01T00:00:{:02}.000Z", if i < 3 { 0 } else { i });
        rows.push(note(&a.id, ts(&at), kind, priority, None));
    }
    rows[4].is_read = true;
    rows[4].read_at = Some(ts("2026-03-02T00:00:00.000Z"));
    rows[5].is_dismissed = true;
    let mine = note(&a.id, ts("2026-03-01T00:00:30.000Z"), Success, High, Some("u1"));
    let theirs = note(&a.id, ts("2026-03-01T00:00:31.000Z"), Success, High, Some("u2"));
    let other_tenant = note(&b.id, ts("2026-03-01T00:00:40.000Z"), Info, Low, None);
    let mut batch = rows.clone();
    batch.extend([mine.clone(), theirs.clone(), other_tenant]);
    s.store.insert_notifications(&batch).await.unwrap();

    let newest_first = |pred: &dyn Fn(&Notification) -> bool, extra: &[&Notification]| {
        let mut v: Vec<Notification> = rows.iter().filter(|n| pred(n)).cloned().collect();
        v.extend(extra.iter().map(|n| (*n).clone()));
        v.sort_by(|x, y| (&y.created_at, &y.id).cmp(&(&x.created_at, &x.id)));
        v
    };
    let list = |f: NotificationFilter| {
        let store = s.store.clone();
        let id = a.id.clone();
        async move { store.list_notifications(&id, &f, None, 100).await.unwrap() }
    };

    // Defaults: tenant-wide, dismissed hidden, newest first; personal ones only for their user.
    assert_eq!(list(all()).await, newest_first(&|n| !n.is_dismissed, &[]));
    let for_u1 = NotificationFilter { user_id: Some("u1".into()), ..all() };
    assert_eq!(list(for_u1.clone()).await, newest_first(&|n| !n.is_dismissed, &[&mine]));
    assert_eq!(list(NotificationFilter { include_dismissed: true, ..all() }).await, newest_first(&|_| true, &[]));
    assert_eq!(
        list(NotificationFilter { include_read: false, ..all() }).await,
        newest_first(&|n| !n.is_dismissed && !n.is_read, &[])
    );
    assert_eq!(
        list(NotificationFilter { kind: Some(Error), include_dismissed: true, ..all() }).await,
        newest_first(&|n| n.kind == Error, &[])
    );
    assert_eq!(
        list(NotificationFilter { priority: Some(High), user_id: Some("u2".into()), ..all() }).await,
        newest_first(&|n| n.priority == High && !n.is_dismissed, &[&theirs])
    );

    // Cursor pagination visits every row once, in order, across equal timestamps.
    let filter = NotificationFilter { include_dismissed: true, ..all() };
    let mut seen = Vec::new();
    let mut cursor: Option<PageCursor> = None;
    loop {
        let page = s.store.list_notifications(&a.id, &filter, cursor.as_ref(), 5).await.unwrap();
        assert!(page.len() <= 5);
        let Some(last) = page.last() else { break };
        cursor = Some(PageCursor::after(last));
        seen.extend(page);
    }
    assert_eq!(ids_of(&seen), ids_of(&newest_first(&|_| true, &[])));

    // Unread counts and mark-all-read follow the same visibility.
    let unread_wide = rows.iter().filter(|n| !n.is_read && !n.is_dismissed).count() as u64;
    assert_eq!(s.store.unread_count(&a.id, None).await.unwrap(), unread_wide);
    assert_eq!(s.store.unread_count(&a.id, Some(&"u1".into())).await.unwrap(), unread_wide + 1);
    let at = ts("2026-03-03T00:00:00.000Z");
    assert_eq!(s.store.mark_all_read(&a.id, Some(&"u1".into()), at).await.unwrap(), unread_wide + 1);
    assert_eq!(s.store.unread_count(&a.id, Some(&"u1".into())).await.unwrap(), 0);
    assert_eq!(s.store.unread_count(&a.id, Some(&"u2".into())).await.unwrap(), unread_wide + 1, "u2's stay unread");
    assert_eq!(s.store.unread_count(&a.id, None).await.unwrap(), unread_wide, "and the tenant's");
    assert_eq!(s.store.unread_count(&b.id, None).await.unwrap(), 1, "other tenant untouched");
}

pub async fn notifications_update_read_dismiss_and_delivery(s: Subject) {
    let a = tenant("a");
    let b = tenant("b");
    s.store.insert_tenant(&a).await.unwrap();
    s.store.insert_tenant(&b).await.unwrap();
    let n = note(&a.id, ts("2026-03-01T00:00:00.000Z"), NotificationType::Info, Priority::Low, None);
    s.store.insert_notifications(std::slice::from_ref(&n)).await.unwrap();
    assert_eq!(s.store.get_notification(&a.id, &n.id).await.unwrap(), Some(n.clone()));
    assert_eq!(s.store.get_notification(&b.id, &n.id).await.unwrap(), None, "scoped by tenant");
    assert_eq!(s.store.get_notification(&a.id, &"nope".into()).await.unwrap(), None);

    let read = NotificationPatch { is_read: Some(true), ..Default::default() };
    let t1 = ts("2026-03-01T00:01:00.000Z");
    let t2 = ts("2026-03-01T00:02:00.000Z");
    let got = s.store.update_notification(&a.id, &n.id, None, &read, t1).await.unwrap().unwrap();
    assert!(got.is_read && got.read_at == Some(t1) && !got.is_dismissed);
    let again = s.store.update_notification(&a.id, &n.id, None, &read, t2).await.unwrap().unwrap();
    assert_eq!(again.read_at, Some(t1), "reading again keeps the first read time");
    let unread = NotificationPatch { is_read: Some(false), is_dismissed: Some(true), ..Default::default() };
    let got = s.store.update_notification(&a.id, &n.id, None, &unread, t2).await.unwrap().unwrap();
    assert!(!got.is_read && got.read_at.is_none() && got.is_dismissed);
    assert_eq!(
        s.store.update_notification(&a.id, &n.id, None, &NotificationPatch::default(), t2).await.unwrap(),
        Some(got)
    );
    assert_eq!(s.store.update_notification(&b.id, &n.id, None, &read, t2).await.unwrap(), None, "other tenant: absent");
    assert_eq!(s.store.update_notification(&a.id, &ids::new_id(), None, &read, t2).await.unwrap(), None);
    let stored = s.store.get_notification(&a.id, &n.id).await.unwrap().unwrap();
    assert!(!stored.is_read && !stored.is_dismissed, "a reader's changes are theirs, not the stored flags");

    assert!(!s.store.mark_delivered(&b.id, &n.id, t1).await.unwrap());
    assert!(s.store.mark_delivered(&a.id, &n.id, t1).await.unwrap());
    assert!(!s.store.mark_delivered(&a.id, &n.id, t2).await.unwrap(), "first delivery wins");
    assert_eq!(s.store.get_notification(&a.id, &n.id).await.unwrap().unwrap().delivered_at, Some(t1));
}

pub async fn a_notification_and_its_audit_entry_are_stored_together(s: Subject) {
    let a = tenant("a");
    s.store.insert_tenant(&a).await.unwrap();
    let n = note(&a.id, ts("2026-03-01T00:00:00.000Z"), NotificationType::Warning, Priority::Urgent, Some("u1"));
    let entry = ActivityEntry {
        id: ids::new_id(),
        tenant_id: a.id.clone(),
        actor: "webhook:notifications".into(),
        action: "notification.created".into(),
        entity: "notification".into(),
        entity_id: n.id.to_string(),
        details: serde_json::json!({"title": n.title}),
        source_ip: None,
        created_at: n.created_at,
    };
    s.store.create_notification(&n, &entry).await.unwrap();
    assert_eq!(s.store.get_notification(&a.id, &n.id).await.unwrap(), Some(n));
    assert_eq!(s.store.list_activity(&a.id, 10).await.unwrap(), vec![entry]);
}

/// SQLite keeps unread counts with triggers and each reader's mark: after any
/// mix of inserts, changes, mark-all-read and deletes (by hand: hookbell never
/// deletes one) every reader's count equals what their list shows; and a
/// database from before per-reader state keeps its flags for every reader.
#[tokio::test]
async fn sqlite_unread_counts_survive_deletes_and_the_per_reader_migration() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("u.sqlite3");
    let store = SqliteStore::open(&path).await.unwrap();
    let t = tenant("one");
    store.insert_tenant(&t).await.unwrap();
    let delete = |id: &NotificationId| {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute("DELETE FROM notifications WHERE id = ?1", [id.as_str()]).unwrap();
    };
    let (u1, u2) = (UserId::from("u1"), UserId::from("u2"));
    let mut ids = Vec::new();
    for i in 0..6 {
        let n = note(&t.id, ids::now(), NotificationType::Info, Priority::Low, (i % 3 == 0).then_some("u1"));
        store.create_notification(&n, &activity(&order(&t.id, &format!("N-{i}")))).await.unwrap();
        ids.push(n.id);
    }
    let read = NotificationPatch { is_read: Some(true), ..Default::default() };
    store.update_notification(&t.id, &ids[1], Some(&u2), &read, ids::now()).await.unwrap();
    store.mark_all_read(&t.id, Some(&u1), ids::now()).await.unwrap();
    let unread = NotificationPatch { is_read: Some(false), ..Default::default() };
    store.update_notification(&t.id, &ids[2], Some(&u1), &unread, ids::now()).await.unwrap();
    for id in [&ids[0], &ids[1], &ids[2]] {
        delete(id);
    }
    // The newest goes too, after u2 marked it read: its number is not given to the next one.
    store.mark_all_read(&t.id, Some(&u2), ids::now()).await.unwrap();
    delete(&ids[5]);
    let next = note(&t.id, ids::now(), NotificationType::Info, Priority::Low, None);
    store.create_notification(&next, &activity(&order(&t.id, "N-next"))).await.unwrap();
    assert_eq!(store.unread_count(&t.id, Some(&u2)).await.unwrap(), 1, "the next one is new to u2");
    for reader in [None, Some(&u1), Some(&u2)] {
        super::readers::count_matches_list(&store, &t.id, reader).await;
    }

    // Back to schema 10, with flags set the old way, then opened again.
    let old = note(&t.id, ids::now(), NotificationType::Info, Priority::Low, None);
    let mut old_read = note(&t.id, ids::now(), NotificationType::Info, Priority::Low, None);
    (old_read.is_read, old_read.read_at) = (true, Some(ts("2026-01-01T00:00:00.000Z")));
    let mut old_dismissed = note(&t.id, ids::now(), NotificationType::Info, Priority::Low, None);
    old_dismissed.is_dismissed = true;
    drop(store);
    let conn = rusqlite::Connection::open(&path).unwrap();
    // The store's connections close on their own threads; the last one's close may still hold the file.
    conn.busy_timeout(std::time::Duration::from_secs(30)).unwrap();
    conn.execute_batch(
        "DROP TRIGGER reader_state_delete; DROP TABLE notification_states; DROP TABLE reader_marks; \
         DROP TRIGGER notification_seq_insert; DROP TABLE notification_seq; \
         ALTER TABLE notifications DROP COLUMN seq; \
         CREATE INDEX notifications_tenant_state ON notifications (tenant_id, is_read, is_dismissed); \
         CREATE INDEX notifications_tenant_user_created ON notifications (tenant_id, user_id, created_at); \
         DROP TABLE preferences; DROP TABLE invitations; ALTER TABLE users DROP COLUMN last_sign_in_at; \
         DROP TABLE provider_connections; ALTER TABLE webhook_events DROP COLUMN topic; \
         DELETE FROM notifications; PRAGMA user_version = 10;",
    )
    .unwrap();
    for n in [&old, &old_read, &old_dismissed] {
        conn.execute(
            "INSERT INTO notifications (id, tenant_id, title, message, type, priority, metadata, is_read, \
             is_dismissed, read_at, created_at) VALUES (?1, ?2, 't', 'm', 'info', 'low', '{}', ?3, ?4, ?5, ?6)",
            rusqlite::params![
                n.id.as_str(),
                t.id.as_str(),
                n.is_read,
                n.is_dismissed,
                n.read_at.map(|r| r.to_string()),
                n.created_at.to_string()
            ],
        )
        .unwrap();
    }
    drop(conn);
    let store = SqliteStore::open(&path).await.unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    let indexes: String = conn
        .query_row(
            "SELECT group_concat(name, ' ') FROM (SELECT name FROM pragma_index_list('notifications') ORDER BY name)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(indexes, "notifications_tenant_created sqlite_autoindex_notifications_1", "15 drops the rest");
    drop(conn);
    for reader in [None, Some(&u1), Some(&u2)] {
        let f = NotificationFilter { user_id: reader.cloned(), include_dismissed: true, ..Default::default() };
        let seen = store.list_notifications(&t.id, &f, None, 10).await.unwrap();
        let state: Vec<(bool, bool)> = seen.iter().map(|n| (n.is_read, n.is_dismissed)).collect();
        assert_eq!(state, [(false, true), (true, false), (false, false)], "{reader:?}");
        assert_eq!(store.unread_count(&t.id, reader).await.unwrap(), 1, "{reader:?}");
    }
    store.update_notification(&t.id, &old_read.id, Some(&u1), &unread, ids::now()).await.unwrap();
    assert_eq!(store.unread_count(&t.id, Some(&u1)).await.unwrap(), 2);
    assert_eq!(store.unread_count(&t.id, Some(&u2)).await.unwrap(), 1, "u1's change is u1's");
}
