//! The serde documents are the ones the hand mappings wrote before them, byte
//! for byte (field names, order and BSON types), and read those back: existing
//! databases keep working. The expected documents are the old `doc!` mappings.

use app::models::{ApiKeyInfo, Role, Timestamp, WebhookSettings};
use mongodb::bson::{doc, oid::ObjectId, Bson, Document};

use super::docs::{
    api_key_doc, api_key_from, membership_from, opt_date, opt_str, previous_secret_bson, session_doc, session_from,
    tenant_doc, tenant_from, to_date, user_doc, user_from,
};
use crate::store::{ApiKey, Membership, PreviousSecret, Session, Tenant, User};

const TENANT: &str = "65f0c0ffee00000000000001";
const USER: &str = "65f0c0ffee00000000000002";
const KEY: &str = "65f0c0ffee00000000000003";
const AT: &str = "2026-03-01T10:20:30.456Z";
const LATER: &str = "2026-03-02T00:00:00.000Z";

fn at() -> Timestamp {
    Timestamp::parse(AT).unwrap()
}

fn later() -> Timestamp {
    Timestamp::parse(LATER).unwrap()
}

fn bytes(d: &Document) -> Vec<u8> {
    let mut out = Vec::new();
    d.to_writer(&mut out).unwrap();
    out
}

fn oid(s: &str) -> ObjectId {
    ObjectId::parse_str(s).unwrap()
}

fn tenant(previous: Option<PreviousSecret>) -> Tenant {
    let webhook_settings = WebhookSettings { webhook_retry_attempts: 7, ..WebhookSettings::default() };
    Tenant {
        id: TENANT.into(),
        name: "Acme".into(),
        slug: "acme".into(),
        webhook_secret_sealed: "v1.sealed".into(),
        webhook_settings,
        previous_secret: previous,
        created_at: at(),
    }
}

#[test]
fn tenants_are_stored_as_before() {
    for previous in [None, Some(PreviousSecret { sealed: "v1.old".into(), valid_until: later() })] {
        let t = tenant(previous.clone());
        let old_previous = match &previous {
            Some(p) => Bson::Document(doc! {"sealed": &p.sealed, "validUntil": to_date(&p.valid_until)}),
            None => Bson::Null,
        };
        let old = doc! {
            "_id": oid(&t.id),
            "name": &t.name,
            "slug": &t.slug,
            "webhookSecretSealed": &t.webhook_secret_sealed,
            "createdAt": to_date(&t.created_at),
            "webhookSettings": mongodb::bson::to_bson(&t.webhook_settings).unwrap(),
            "previousSecret": old_previous.clone(),
        };
        assert_eq!(bytes(&tenant_doc(&t).unwrap()), bytes(&old));
        assert_eq!(previous_secret_bson(previous.as_ref()).unwrap(), old_previous);
        assert_eq!(tenant_from(&old).unwrap(), t);
    }
    // Tenants from before the settings and the previous secret, and with the owners' list.
    let mut older = doc! {
        "_id": oid(TENANT), "name": "Acme", "slug": "acme", "webhookSecretSealed": "v1.sealed",
        "createdAt": to_date(&at()), "owners": [oid(USER)],
    };
    let read = tenant_from(&older).unwrap();
    assert_eq!((read.webhook_settings, read.previous_secret), (WebhookSettings::default(), None));
    older.insert("name", 7);
    assert!(tenant_from(&older).is_err(), "a malformed tenant is an error");
}

#[test]
fn users_and_memberships_are_stored_as_before() {
    let u = User {
        id: USER.into(),
        email: "Ada@Example.com".into(),
        name: "Ada".into(),
        password_hash: "$argon2id$…".into(),
        created_at: at(),
        last_sign_in_at: None,
    };
    let old = doc! {
        "_id": oid(&u.id),
        "email": u.email.to_lowercase(),
        "name": &u.name,
        "passwordHash": &u.password_hash,
        "createdAt": to_date(&u.created_at),
    };
    assert_eq!(bytes(&user_doc(&u).unwrap()), bytes(&old));
    assert_eq!(user_from(&old).unwrap(), User { email: "ada@example.com".into(), ..u });

    // As `set_membership`'s upsert leaves it.
    let m = doc! {
        "_id": ObjectId::new(), "tenantId": oid(TENANT), "userId": oid(USER), "role": "admin",
        "createdAt": to_date(&at()),
    };
    let read = membership_from(&m).unwrap();
    assert_eq!(
        read,
        Membership { tenant_id: TENANT.into(), user_id: USER.into(), role: Role::Admin, created_at: at() }
    );
    let mut bad = m.clone();
    bad.insert("role", "emperor");
    assert!(membership_from(&bad).is_err());
}

#[test]
fn sessions_are_stored_as_before() {
    for (revoked_at, ip) in [(None, None), (Some(later()), Some("203.0.113.9".to_owned()))] {
        let s = Session {
            token_hash: "ab".repeat(32),
            user_id: USER.into(),
            created_at: at(),
            last_seen_at: at(),
            idle_expires_at: later(),
            expires_at: later(),
            revoked_at,
            ip: ip.clone(),
            user_agent: ip.map(|_| "curl/8".to_owned()),
        };
        let old = doc! {
            "_id": &s.token_hash,
            "userId": oid(&s.user_id),
            "createdAt": to_date(&s.created_at),
            "lastSeenAt": to_date(&s.last_seen_at),
            "idleExpiresAt": to_date(&s.idle_expires_at),
            "expiresAt": to_date(&s.expires_at),
            "revokedAt": opt_date(&s.revoked_at),
            "ip": opt_str(&s.ip),
            "userAgent": opt_str(&s.user_agent),
        };
        assert_eq!(bytes(&session_doc(&s).unwrap()), bytes(&old));
        assert_eq!(session_from(&old).unwrap(), s);
    }
}

#[test]
fn api_keys_are_stored_as_before() {
    for (used, revoked, by) in [(None, None, None), (Some(AT), Some(LATER), Some(USER))] {
        let k = ApiKey {
            info: ApiKeyInfo {
                id: KEY.into(),
                tenant_id: TENANT.into(),
                name: "CI".into(),
                prefix: "hb_live_abcd".into(),
                role: Role::Member,
                created_by: by.map(str::to_owned),
                created_at: at(),
                last_used_at: used.map(|t| Timestamp::parse(t).unwrap()),
                revoked_at: revoked.map(|t| Timestamp::parse(t).unwrap()),
            },
            key_hash: "cd".repeat(32),
        };
        let i = &k.info;
        let old = doc! {
            "_id": oid(&i.id),
            "tenantId": oid(&i.tenant_id),
            "name": &i.name,
            "prefix": &i.prefix,
            "keyHash": &k.key_hash,
            "role": i.role.as_str(),
            "createdBy": opt_str(&i.created_by),
            "createdAt": to_date(&i.created_at),
            "lastUsedAt": opt_date(&i.last_used_at),
            "revokedAt": opt_date(&i.revoked_at),
        };
        assert_eq!(bytes(&api_key_doc(&k).unwrap()), bytes(&old));
        assert_eq!(api_key_from(&old).unwrap(), k);
    }
}

#[test]
fn ids_that_are_not_well_formed_are_refused() {
    let mut t = tenant(None);
    t.id = "not-an-object-id".into();
    assert!(tenant_doc(&t).is_err());
    // A malformed time cannot be built any more (`Timestamp` parses at the edge).
}
