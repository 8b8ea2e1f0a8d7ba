//! Tenants: round trips, unique slugs, webhook settings and sealed secrets (and health).

use app::models::ActivityEntry;
use server::{ids, store::StoreError};

use super::{tenant, ts, Subject};

pub async fn ping_answers(s: Subject) {
    s.store.ping().await.unwrap();
    assert!(["sqlite", "mongodb"].contains(&s.store.kind()));
}

pub async fn tenants_round_trip_and_slugs_are_unique(s: Subject) {
    let t = tenant("acme");
    s.store.insert_tenant(&t).await.unwrap();
    assert_eq!(s.store.get_tenant(&t.id).await.unwrap(), Some(t.clone()));
    assert_eq!(s.store.get_tenant_by_slug(&t.slug).await.unwrap(), Some(t.clone()));
    assert_eq!(s.store.get_tenant(&ids::new_id()).await.unwrap(), None);
    assert_eq!(s.store.get_tenant(&"not-an-id".into()).await.unwrap(), None);
    assert_eq!(s.store.get_tenant_by_slug("nope").await.unwrap(), None);
    let mut same_slug = tenant("other");
    same_slug.slug = t.slug.clone();
    assert!(matches!(s.store.insert_tenant(&same_slug).await, Err(StoreError::Conflict(_))));
    assert!(matches!(s.store.insert_tenant(&t).await, Err(StoreError::Conflict(_))));
}

pub async fn webhook_settings_default_and_update(s: Subject) {
    let t = tenant("acme");
    s.store.insert_tenant(&t).await.unwrap();
    let stored = s.store.get_tenant(&t.id).await.unwrap().unwrap();
    assert_eq!(stored.webhook_settings, app::models::WebhookSettings::default());
    let mut settings = stored.webhook_settings;
    settings.webhook_enabled = false;
    settings.webhook_endpoints.payments = false;
    settings.webhook_retry_attempts = 7;
    settings.webhook_timeout_ms = 120_000;
    assert!(s.store.update_webhook_settings(&t.id, &settings).await.unwrap());
    assert_eq!(s.store.get_tenant(&t.id).await.unwrap().unwrap().webhook_settings, settings);
    assert!(!s.store.update_webhook_settings(&ids::new_id(), &settings).await.unwrap());
    let other = tenant("other");
    s.store.insert_tenant(&other).await.unwrap();
    assert_eq!(s.store.get_tenant(&other.id).await.unwrap().unwrap().webhook_settings, Default::default());
}

pub async fn secrets_rotate_with_a_previous_one_and_activity_appends(s: Subject) {
    use server::store::PreviousSecret;
    let a = tenant("a");
    s.store.insert_tenant(&a).await.unwrap();
    let previous =
        PreviousSecret { sealed: a.webhook_secret_sealed.clone(), valid_until: ts("2099-01-01T00:00:00.000Z") };
    assert!(s.store.rotate_webhook_secret(&a.id, "v1.second", Some(&previous)).await.unwrap());
    let stored = s.store.get_tenant(&a.id).await.unwrap().unwrap();
    assert_eq!((stored.webhook_secret_sealed.as_str(), stored.previous_secret), ("v1.second", Some(previous)));
    assert!(s.store.rotate_webhook_secret(&a.id, "v1.third", None).await.unwrap());
    let stored = s.store.get_tenant(&a.id).await.unwrap().unwrap();
    assert_eq!((stored.webhook_secret_sealed.as_str(), stored.previous_secret), ("v1.third", None));
    assert!(!s.store.rotate_webhook_secret(&ids::new_id(), "v1.x", None).await.unwrap());

    let entry = ActivityEntry {
        id: ids::new_id(),
        tenant_id: a.id.clone(),
        actor: "api-key:k1".into(),
        action: "secret.rotated".into(),
        entity: "tenant".into(),
        entity_id: a.id.to_string(),
        details: serde_json::json!({"graceSeconds": 60}),
        source_ip: Some("10.0.0.1".into()),
        created_at: ts("2026-03-01T00:00:00.000Z"),
    };
    s.store.append_activity(&entry).await.unwrap();
    assert_eq!(s.store.list_activity(&a.id, 10).await.unwrap(), vec![entry]);
}

/// Sealed secrets are replaced only over what was read (a rotation in between wins).
pub async fn sealed_secrets_are_replaced_only_over_what_was_read(s: Subject) {
    use server::store::PreviousSecret;
    let a = tenant("a");
    s.store.insert_tenant(&a).await.unwrap();
    let previous = PreviousSecret { sealed: "v2.prev".into(), valid_until: ts("2099-01-01T00:00:00.000Z") };
    assert!(s.store.reseal_webhook_secrets(&a.id, &a.webhook_secret_sealed, "v2.new", Some(&previous)).await.unwrap());
    let stored = s.store.get_tenant(&a.id).await.unwrap().unwrap();
    assert_eq!((stored.webhook_secret_sealed.as_str(), stored.previous_secret), ("v2.new", Some(previous)));
    assert!(!s.store.reseal_webhook_secrets(&a.id, &a.webhook_secret_sealed, "v2.stale", None).await.unwrap());
    assert_eq!(s.store.get_tenant(&a.id).await.unwrap().unwrap().webhook_secret_sealed, "v2.new");
    assert!(!s.store.reseal_webhook_secrets(&ids::new_id(), "v2.new", "v2.x", None).await.unwrap());
}
