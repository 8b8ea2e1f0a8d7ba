//! One conformance suite, written once and run against every store: the
//! embedded SQLite store and MongoDB (SecantusDB, a real wire-protocol server).
//!
//! This file holds the harness (the stores under test, the records the cases
//! build, the `conformance!` macro that runs every case against every store)
//! and the check of MongoDB's indexes; the cases are in one file per aggregate.

mod activity;
mod identity;
mod invitations;
mod notifications;
mod orders;
mod providers;
mod readers;
mod tenants;
mod webhook_log;

use std::sync::Arc;

use app::models::{
    ActivityEntry, Notification, NotificationFilter, NotificationType, Order, OrderItem, OrderStatus, Priority,
    TenantId, Timestamp,
};
use server::{
    ids,
    store::{mongo::MongoStore, sqlite::SqliteStore, Store, Tenant},
};

use self::{
    activity::*, identity::*, invitations::*, notifications::*, orders::*, providers::*, readers::*, tenants::*,
    webhook_log::*,
};
use crate::mongo_server::fresh_mongo_uri;

/// An instant written as hookbell writes it.
pub fn ts(s: &str) -> Timestamp {
    Timestamp::parse_exact(s).unwrap()
}

const DAY: std::time::Duration = std::time::Duration::from_secs(86_400);

/// A store under test and whatever keeps its backing alive.
pub struct Subject {
    pub store: Arc<dyn Store>,
    _keep: Option<tempfile::TempDir>,
}

pub async fn sqlite() -> Subject {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("s.sqlite3")).await.unwrap();
    Subject { store: Arc::new(store), _keep: Some(dir) }
}

pub async fn mongo() -> Subject {
    let wc = server::store::mongo::parse_write_concern(None).unwrap();
    let store = MongoStore::connect(&fresh_mongo_uri(), wc, DAY).await.expect("connect to SecantusDB");
    Subject { store: Arc::new(store), _keep: None }
}

/// The seed's default list: tenant-wide, read included, dismissed excluded.
fn all() -> NotificationFilter {
    NotificationFilter::default()
}

fn tenant(name: &str) -> Tenant {
    Tenant {
        id: ids::new_id(),
        name: name.into(),
        slug: format!("{name}-{}", ids::new_id::<String>()),
        webhook_secret_sealed: format!("v1.sealed-{name}"),
        webhook_settings: Default::default(),
        previous_secret: None,
        created_at: ids::now(),
    }
}

fn order(tenant_id: &str, number: &str) -> Order {
    let now = ids::now();
    Order {
        id: ids::new_id(),
        tenant_id: tenant_id.into(),
        order_number: number.into(),
        customer_name: Some("Ada".into()),
        customer_email: Some("ada@example.com".into()),
        amount_minor: 9999,
        currency: "USD".into(),
        status: OrderStatus::Paid,
        payment_status: app::models::PaymentStatus::Paid,
        payment_id: Some("pay_123".into()),
        items: vec![OrderItem { product_id: Some("p1".into()), product_name: None, quantity: 2, price_minor: 4999 }],
        metadata: serde_json::json!({"source": "test", "nested": {"n": 1}}),
        created_at: now,
        updated_at: now,
    }
}

fn notification(o: &Order) -> Notification {
    Notification {
        id: ids::new_id(),
        tenant_id: o.tenant_id.clone(),
        user_id: None,
        title: format!("New order {}", o.order_number),
        message: "m".into(),
        kind: NotificationType::Success,
        priority: Priority::High,
        action_url: Some("/orders".into()),
        action_text: Some("Open".into()),
        metadata: serde_json::json!({"orderId": o.id}),
        is_read: false,
        is_dismissed: false,
        read_at: None,
        delivered_at: None,
        created_at: o.created_at,
        snoozed_until: None,
    }
}

fn activity(o: &Order) -> ActivityEntry {
    ActivityEntry {
        id: ids::new_id(),
        tenant_id: o.tenant_id.clone(),
        actor: "webhook:orders".into(),
        action: "order.created".into(),
        entity: "order".into(),
        entity_id: o.id.to_string(),
        details: serde_json::json!({"orderNumber": o.order_number}),
        source_ip: Some("127.0.0.1".into()),
        created_at: o.created_at,
    }
}

/// Runs every conformance case against every store.
macro_rules! conformance {
    ($($case:ident),* $(,)?) => {
        mod sqlite_store {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() { super::$case(super::sqlite().await).await }
            )*
        }
        mod mongo_store {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() { super::$case(super::mongo().await).await }
            )*
        }
    };
}

conformance!(
    ping_answers,
    tenants_round_trip_and_slugs_are_unique,
    orders_create_their_notification_once,
    order_numbers_are_unique_per_tenant_only,
    queries_never_cross_tenants,
    latest_is_newest_first_and_limited,
    concurrent_writers_of_one_order_number_store_it_once,
    bulk_insert_and_mark_all_read,
    order_activity_is_recorded_once_per_order,
    webhook_settings_default_and_update,
    webhook_events_are_logged_listed_and_purged,
    notifications_filter_and_paginate,
    notifications_update_read_dismiss_and_delivery,
    users_belong_to_tenants_with_roles,
    sessions_expire_and_can_be_revoked,
    api_keys_are_found_by_prefix_listed_and_revoked,
    payments_move_once_along_their_states,
    a_notification_and_its_audit_entry_are_stored_together,
    processed_webhook_ids_are_remembered_once_per_tenant,
    secrets_rotate_with_a_previous_one_and_activity_appends,
    orders_are_listed_newest_first_and_counted_for_today,
    repeated_payment_changes_each_keep_their_records,
    simultaneous_demotions_keep_an_owner,
    a_webhook_id_is_claimed_once,
    sealed_secrets_are_replaced_only_over_what_was_read,
    each_reader_keeps_their_own_state,
    flags_stored_before_per_reader_state_hold_for_every_reader,
    a_snooze_hides_then_wakes_exactly_once,
    simultaneous_changes_by_one_reader_both_apply,
    unread_counts_match_the_list_for_every_reader,
    preferences_change_field_by_field,
    simultaneous_marks_of_one_reader_leave_everything_read,
    an_invitation_is_used_once_until_it_expires_or_is_revoked,
    a_provider_connection_is_saved_over_the_version_it_read,
    memberships_added_once_keep_an_existing_role,
    sessions_are_listed_and_all_but_one_end,
    a_new_order_is_stored_with_its_receipt_and_count,
    a_write_claims_its_webhook_id_before_storing,
);

/// Every index the MongoDB store relies on exists after start-up, with its
/// uniqueness and TTL options.
#[tokio::test]
async fn mongo_creates_every_index_at_start_up() {
    use futures_util::TryStreamExt;
    use mongodb::bson::{doc, Document};
    let uri = fresh_mongo_uri();
    let wc = server::store::mongo::parse_write_concern(None).unwrap();
    MongoStore::connect(&uri, wc, DAY).await.unwrap();
    let db = mongodb::Client::with_uri_str(&uri).await.unwrap().default_database().unwrap();
    // (collection, keys, unique, TTL seconds)
    let expected: [(&str, Document, bool, Option<i64>); 14] = [
        ("orders", doc! {"tenantId": 1, "orderNumber": 1}, true, None),
        ("notifications", doc! {"tenantId": 1, "userId": 1, "isRead": 1, "isDismissed": 1, "seq": 1}, false, None),
        ("notification_states", doc! {"snoozedUntil": 1}, false, None),
        ("reader_marks", doc! {"tenantId": 1, "readThrough": 1}, false, None),
        ("notifications", doc! {"tenantId": 1, "sourceKey": 1}, true, None),
        ("notifications", doc! {"tenantId": 1, "isRead": 1, "isDismissed": 1}, false, None),
        ("activity_log", doc! {"tenantId": 1, "createdAt": -1}, false, None),
        ("webhook_events", doc! {"receivedAt": 1}, false, Some(86_400)),
        ("users", doc! {"email": 1}, true, None),
        ("invitations", doc! {"tokenHash": 1}, true, None),
        ("provider_connections", doc! {"tenantId": 1, "provider": 1}, false, None),
        ("memberships", doc! {"tenantId": 1, "userId": 1}, true, None),
        ("sessions", doc! {"expiresAt": 1}, false, Some(0)),
        ("api_keys", doc! {"prefix": 1}, true, None),
    ];
    for (coll, keys, unique, ttl) in expected {
        let indexes: Vec<Document> = db
            .collection::<Document>(coll)
            .list_indexes()
            .await
            .unwrap()
            .try_collect::<Vec<_>>()
            .await
            .unwrap()
            .into_iter()
            .map(|m| mongodb::bson::to_document(&m).unwrap())
            .collect();
        let found = indexes.iter().find(|i| i.get_document("key").ok() == Some(&keys));
        let found = found.unwrap_or_else(|| panic!("{coll}: no index on {keys}; have {indexes:?}"));
        let opts = found.get_document("options").cloned().unwrap_or_default();
        let is_unique = opts.get_bool("unique").or_else(|_| found.get_bool("unique")).unwrap_or(false);
        assert_eq!(is_unique, unique, "{coll} {keys}: unique");
        let expire =
            |d: &Document| d.get("expireAfterSeconds").and_then(|b| b.as_i64().or_else(|| b.as_i32().map(i64::from)));
        assert_eq!(expire(&opts).or_else(|| expire(found)), ttl, "{coll} {keys}: TTL");
    }
}
