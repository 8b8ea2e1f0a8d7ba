//! The query plans of the reads of the two largest tables every webhook
//! writes to (`notifications`, `webhook_events`): each searches an index or
//! a primary key, none scans a table. Every index costs each insert its
//! B-tree write, so one no read uses goes (migration 15); these plans show
//! that none of the reads needed it, and fail if a later drop takes one that
//! a read does need.

use app::models::{InboxView, NotificationType, Priority, UserId, WebhookEventFilter};
use rusqlite::Connection;

use super::{
    migrations::migrate,
    notifications::{list_statement, SAVE_STATE, VIEW_ONE},
    query::{newest_first_sql, Conditions},
    webhook_log::{event_conditions, EVENTS, PURGE_EVENTS},
};
use crate::store::{NotificationFilter, PageCursor};

/// The plan of `sql` on a migrated, empty database, one line per step
/// (parameters unbound: a plan does not depend on their values here).
fn plan(conn: &Connection, sql: &str) -> Vec<String> {
    let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
    let mut rows = stmt.raw_query();
    let mut steps = Vec::new();
    while let Some(row) = rows.next().unwrap() {
        steps.push(row.get::<_, String>(3).unwrap());
    }
    steps
}

/// Every table step of `sql`'s plan is a search; `uses` names the index of the first.
fn assert_searches(conn: &Connection, sql: &str, uses: &str) {
    let steps = plan(conn, sql);
    let scans: Vec<&String> = steps.iter().filter(|s| s.starts_with("SCAN ") && s != &"SCAN CONSTANT ROW").collect();
    assert!(scans.is_empty(), "{sql}\nscans a table: {steps:?}");
    assert!(steps.first().is_some_and(|s| s.contains(uses)), "{sql}\nshould use {uses}: {steps:?}");
}

fn migrated() -> Connection {
    let mut conn = Connection::open_in_memory().unwrap();
    migrate(&mut conn).unwrap();
    conn
}

#[test]
fn every_read_of_a_readers_notifications_searches_an_index() {
    let conn = migrated();
    let cursor = PageCursor { created_at: crate::ids::now(), id: "0".repeat(24) };
    let readers = [None, Some(UserId::from("a".repeat(24)))];
    let views = [InboxView::Inbox, InboxView::Snoozed, InboxView::Dismissed];
    for (user_id, view) in readers.iter().flat_map(|r| views.map(|v| (r.clone(), v))) {
        for (include_read, filtered, after) in [(false, false, None), (true, true, Some(&cursor))] {
            let filter = NotificationFilter {
                user_id: user_id.clone(),
                include_read,
                include_dismissed: include_read,
                kind: filtered.then_some(NotificationType::Warning),
                priority: filtered.then_some(Priority::High),
                view,
            };
            let (sql, _) = list_statement(&filter, after, 20);
            assert_searches(&conn, &sql, "notifications_tenant_created");
        }
    }
    assert_searches(&conn, &VIEW_ONE, "sqlite_autoindex_notifications_1");
    assert_searches(&conn, SAVE_STATE, "sqlite_autoindex_notifications_1");
}

#[test]
fn every_read_of_the_event_log_searches_an_index() {
    let conn = migrated();
    let cursor = PageCursor { created_at: crate::ids::now(), id: "0".repeat(24) };
    let list = |filter: &WebhookEventFilter, after| {
        let mut conditions: Conditions = event_conditions(filter, after);
        newest_first_sql(EVENTS, &mut conditions, 20)
    };
    let all = WebhookEventFilter::default();
    assert_searches(&conn, &list(&all, None), "webhook_events_tenant_received");
    assert_searches(&conn, &list(&all, Some(&cursor)), "webhook_events_tenant_received");
    let orders = WebhookEventFilter { endpoint: Some("orders".into()), outcome: Some("accepted".into()) };
    assert_searches(&conn, &list(&orders, Some(&cursor)), "webhook_events_tenant_endpoint");
    assert_searches(&conn, PURGE_EVENTS, "webhook_events_received");
}
