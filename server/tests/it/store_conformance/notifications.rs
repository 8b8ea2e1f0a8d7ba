//! Notifications: tenant scoping, filters and pages, reads, dismissals, deliveries and unread counts.

use app::models::{
    ActivityEntry, Notification, NotificationFilter, NotificationId, NotificationPatch, NotificationType, PageCursor,
    Priority, TenantId, UserId,
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
    let viewer = NotificationFilter { user_id: Some("user-1".into()), ..all() };
    let latest = s.store.list_notifications(&a.id, &viewer, None, 50).await.unwrap();
    let tenant_wide: Vec<_> = latest.iter().filter(|n| n.user_id.is_none()).collect();
    assert_eq!(tenant_wide.len(), 25);
    assert!(tenant_wide.iter().all(|n| n.is_read && n.read_at == Some(at)));
    assert!(latest.iter().any(|n| n.user_id.is_some() && !n.is_read), "personal stays unread");
}

/// A notification of tenant `t` at `at`, with the given state.
fn note(t: &str, at: Timestamp, kind: NotificationType, priority: Priority, user: Option<&str>) -> Notification {
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
    let unread_rows = rows.iter().filter(|n| !n.is_read).count() as u64;
    assert_eq!(s.store.mark_all_read(&a.id, Some(&"u1".into()), at).await.unwrap(), unread_rows + 1);
    assert_eq!(s.store.unread_count(&a.id, Some(&"u1".into())).await.unwrap(), 0);
    assert_eq!(s.store.unread_count(&a.id, Some(&"u2".into())).await.unwrap(), 1, "u2's own stays unread");
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

    let read = NotificationPatch { is_read: Some(true), is_dismissed: None };
    let t1 = ts("2026-03-01T00:01:00.000Z");
    let t2 = ts("2026-03-01T00:02:00.000Z");
    let got = s.store.update_notification(&a.id, &n.id, &read, t1).await.unwrap().unwrap();
    assert!(got.is_read && got.read_at == Some(t1) && !got.is_dismissed);
    let again = s.store.update_notification(&a.id, &n.id, &read, t2).await.unwrap().unwrap();
    assert_eq!(again.read_at, Some(t1), "reading again keeps the first read time");
    let unread = NotificationPatch { is_read: Some(false), is_dismissed: Some(true) };
    let got = s.store.update_notification(&a.id, &n.id, &unread, t2).await.unwrap().unwrap();
    assert!(!got.is_read && got.read_at.is_none() && got.is_dismissed);
    assert_eq!(s.store.update_notification(&a.id, &n.id, &NotificationPatch::default(), t2).await.unwrap(), Some(got));
    assert_eq!(s.store.update_notification(&b.id, &n.id, &read, t2).await.unwrap(), None, "other tenant: absent");
    assert_eq!(s.store.update_notification(&a.id, &ids::new_id(), &read, t2).await.unwrap(), None);
    assert!(!s.store.get_notification(&a.id, &n.id).await.unwrap().unwrap().is_read, "b's patch changed nothing");

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

/// SQLite keeps unread counts in a table maintained by triggers: after any mix
/// of inserts, reads, dismissals, mark-all-read and deletes they equal a
/// direct count, and a database from before the table is backfilled.
#[tokio::test]
async fn sqlite_unread_counts_match_a_direct_count() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("u.sqlite3");
    let store = SqliteStore::open(&path).await.unwrap();
    let tenants = [tenant("one"), tenant("two")];
    for t in &tenants {
        store.insert_tenant(t).await.unwrap();
    }
    let (u1, u2) = (UserId::from("u1"), UserId::from("u2"));
    let users = [None, Some(&u1), Some(&u2)];
    let direct = |t: &str, u: Option<&UserId>| -> u64 {
        let u = u.map(|u| u.as_str());
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.query_row(
            "SELECT COUNT(*) FROM notifications WHERE tenant_id = ?1 AND (user_id IS NULL OR user_id = ?2) \
             AND is_read = 0 AND is_dismissed = 0",
            rusqlite::params![t, u],
            |r| r.get::<_, i64>(0),
        )
        .unwrap() as u64
    };
    // A fixed-seed xorshift: the same sequence every run.
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move |n: usize| -> usize {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    let mut ids: Vec<(TenantId, NotificationId)> = Vec::new();
    for step in 0..400 {
        let t = &tenants[next(2)].id;
        match next(6) {
            0..=2 => {
                let n = note(t, ids::now(), NotificationType::Info, Priority::Low, users[next(3)].map(|u| u.as_str()));
                store.create_notification(&n, &activity(&order(t, &format!("N-{step}")))).await.unwrap();
                ids.push((t.clone(), n.id));
            }
            3 if !ids.is_empty() => {
                let (t, id) = &ids[next(ids.len())];
                let patch = NotificationPatch {
                    is_read: Some(next(2) == 0),
                    is_dismissed: (next(3) == 0).then(|| next(2) == 0),
                };
                store.update_notification(t, id, &patch, ids::now()).await.unwrap();
            }
            4 if next(8) == 0 => {
                store.mark_all_read(t, users[next(3)], ids::now()).await.unwrap();
            }
            5 if !ids.is_empty() => {
                let (_, id) = ids.swap_remove(next(ids.len()));
                let conn = rusqlite::Connection::open(&path).unwrap();
                conn.execute("DELETE FROM notifications WHERE id = ?1", [id.as_str()]).unwrap();
            }
            _ => {}
        }
        for t in &tenants {
            for u in users {
                assert_eq!(store.unread_count(&t.id, u).await.unwrap(), direct(&t.id, u), "step {step}, user {u:?}");
            }
        }
    }
    assert!(direct(&tenants[0].id, Some(&u1)) > 0, "the sequence left something unread");

    // A database from before the counts table (schema 9) gets them on open.
    drop(store);
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        "DROP TRIGGER unread_counts_insert; DROP TRIGGER unread_counts_update_old; \
         DROP TRIGGER unread_counts_update_new; DROP TRIGGER unread_counts_delete; \
         DROP TABLE unread_counts; PRAGMA user_version = 9;",
    )
    .unwrap();
    drop(conn);
    let store = SqliteStore::open(&path).await.unwrap();
    for t in &tenants {
        for u in users {
            assert_eq!(store.unread_count(&t.id, u).await.unwrap(), direct(&t.id, u));
        }
    }
}
