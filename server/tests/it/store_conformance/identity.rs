//! Identity: users in tenants with roles, the last-owner rule, sessions and API keys.

use std::sync::Arc;

use app::models::{ApiKeyInfo, Role, TenantId, Timestamp};
use server::{
    ids,
    store::{ApiKey, Membership, Session, StoreError, Tenant, User},
};

use super::{tenant, ts, Subject};

fn user(email: &str) -> User {
    User {
        id: ids::new_id(),
        email: email.into(),
        name: "Ada Lovelace".into(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        created_at: ids::now(),
        last_sign_in_at: None,
    }
}

pub async fn users_belong_to_tenants_with_roles(s: Subject) {
    let a = tenant("a");
    let b = tenant("b");
    s.store.insert_tenant(&a).await.unwrap();
    s.store.insert_tenant(&b).await.unwrap();
    let listed: Vec<TenantId> = s.store.list_tenants().await.unwrap().into_iter().map(|t| t.id).collect();
    assert!(listed.contains(&a.id) && listed.contains(&b.id));

    let u = user("ada@example.com");
    s.store.insert_user(&u).await.unwrap();
    assert_eq!(s.store.get_user(&u.id).await.unwrap(), Some(u.clone()));
    assert_eq!(s.store.get_user_by_email("ADA@Example.com").await.unwrap(), Some(u.clone()), "case-insensitive");
    assert_eq!(s.store.get_user_by_email("bob@example.com").await.unwrap(), None);
    assert_eq!(s.store.get_user(&"nope".into()).await.unwrap(), None);
    let dup = user("Ada@Example.COM");
    assert!(matches!(s.store.insert_user(&dup).await, Err(StoreError::Conflict(_))), "emails unique across case");

    let m = |t: &Tenant, role| Membership {
        tenant_id: t.id.clone(),
        user_id: u.id.clone(),
        role,
        created_at: ts("2026-03-01T00:00:00.000Z"),
    };
    s.store.set_membership(&m(&a, Role::Member)).await.unwrap();
    s.store.set_membership(&m(&a, Role::Admin)).await.unwrap();
    let mut in_b = m(&b, Role::Owner);
    in_b.created_at = ts("2026-03-02T00:00:00.000Z");
    s.store.set_membership(&in_b).await.unwrap();
    assert_eq!(s.store.memberships_of_user(&u.id).await.unwrap(), vec![m(&a, Role::Admin), in_b.clone()]);
    assert!(s.store.memberships_of_user(&ids::new_id()).await.unwrap().is_empty());

    // A tenant's members, oldest first; removing one leaves the others.
    let bob = user("bob@example.com");
    s.store.insert_user(&bob).await.unwrap();
    let bob_in_a =
        Membership { user_id: bob.id.clone(), created_at: ts("2026-03-03T00:00:00.000Z"), ..m(&a, Role::Member) };
    s.store.set_membership(&bob_in_a).await.unwrap();
    assert_eq!(s.store.memberships_of_tenant(&a.id).await.unwrap(), vec![m(&a, Role::Admin), bob_in_a.clone()]);
    assert!(s.store.delete_membership(&a.id, &u.id).await.unwrap());
    assert!(!s.store.delete_membership(&a.id, &u.id).await.unwrap(), "already gone");
    assert!(!s.store.delete_membership(&"nope".into(), &"nope".into()).await.unwrap());
    assert_eq!(s.store.memberships_of_tenant(&a.id).await.unwrap(), vec![bob_in_a]);
    assert_eq!(s.store.memberships_of_user(&u.id).await.unwrap(), vec![in_b], "other tenants untouched");
    assert!(s.store.memberships_of_tenant(&ids::new_id()).await.unwrap().is_empty());
}

pub async fn sessions_expire_and_can_be_revoked(s: Subject) {
    let u = user("s@example.com");
    s.store.insert_user(&u).await.unwrap();
    let session = |hash: &str, expires: Timestamp| Session {
        token_hash: hash.into(),
        user_id: u.id.clone(),
        created_at: ts("2026-03-01T00:00:00.000Z"),
        last_seen_at: ts("2026-03-01T00:00:00.000Z"),
        idle_expires_at: ts("2026-03-01T01:00:00.000Z"),
        expires_at: expires,
        revoked_at: None,
        ip: Some("127.0.0.1".into()),
        user_agent: Some("test".into()),
    };
    // Expiries lie in the future of the wall clock, so MongoDB's TTL monitor leaves them be.
    let live = session(&"a".repeat(64), ts("2099-01-01T00:00:00.000Z"));
    let old = session(&"b".repeat(64), ts("2098-01-01T00:00:00.000Z"));
    s.store.insert_session(&live).await.unwrap();
    s.store.insert_session(&old).await.unwrap();
    assert!(matches!(s.store.insert_session(&live).await, Err(StoreError::Conflict(_))));

    let now = ts("2026-03-01T00:30:00.000Z");
    let got = s.store.get_session(&live.token_hash, now).await.unwrap().unwrap();
    assert_eq!(got, live, "every field round-trips");
    assert!(got.is_live(now));
    assert!(!got.is_live(ts("2026-03-01T01:00:00.000Z")), "idle expiry");
    assert_eq!(
        s.store.get_session(&old.token_hash, ts("2098-01-01T00:00:00.000Z")).await.unwrap(),
        None,
        "absolute expiry"
    );
    assert_eq!(s.store.get_session(&"c".repeat(64), now).await.unwrap(), None);

    assert!(s.store.touch_session(&live.token_hash, now, ts("2026-03-01T01:30:00.000Z")).await.unwrap());
    let touched = s.store.get_session(&live.token_hash, now).await.unwrap().unwrap();
    assert_eq!((touched.last_seen_at, touched.idle_expires_at), (now, ts("2026-03-01T01:30:00.000Z")));
    assert!(s.store.revoke_session(&live.token_hash, now).await.unwrap());
    assert!(!s.store.revoke_session(&live.token_hash, now).await.unwrap(), "already revoked");
    assert!(!s.store.touch_session(&live.token_hash, now, ts("2099-01-01T00:00:00.000Z")).await.unwrap());
    let revoked = s.store.get_session(&live.token_hash, now).await.unwrap().unwrap();
    assert!(!revoked.is_live(now) && revoked.revoked_at == Some(now));

    let third = session(&"d".repeat(64), ts("2099-01-01T00:00:00.000Z"));
    s.store.insert_session(&third).await.unwrap();
    assert_eq!(s.store.revoke_user_sessions(&u.id, now).await.unwrap(), 2, "the old and the third");
    assert_eq!(s.store.purge_sessions(ts("2098-06-01T00:00:00.000Z")).await.unwrap(), 1, "only the expired one");
    assert!(s.store.get_session(&third.token_hash, now).await.unwrap().is_some());
}

pub async fn api_keys_are_found_by_prefix_listed_and_revoked(s: Subject) {
    let a = tenant("a");
    let b = tenant("b");
    s.store.insert_tenant(&a).await.unwrap();
    s.store.insert_tenant(&b).await.unwrap();
    let key = |t: &Tenant, prefix: &str, at: Timestamp| ApiKey {
        info: ApiKeyInfo {
            id: ids::new_id(),
            tenant_id: t.id.clone(),
            name: format!("key {prefix}"),
            prefix: prefix.into(),
            role: Role::Admin,
            created_by: Some(ids::new_id()),
            created_at: at,
            last_used_at: None,
            revoked_at: None,
        },
        key_hash: format!("{prefix:0>64}"),
    };
    let k1 = key(&a, "hb_00000001", ts("2026-03-01T00:00:00.000Z"));
    let k2 = key(&a, "hb_00000002", ts("2026-03-02T00:00:00.000Z"));
    let kb = key(&b, "hb_00000003", ts("2026-03-03T00:00:00.000Z"));
    for k in [&k1, &k2, &kb] {
        s.store.insert_api_key(k).await.unwrap();
    }
    let same_prefix = key(&b, "hb_00000001", ts("2026-03-04T00:00:00.000Z"));
    assert!(matches!(s.store.insert_api_key(&same_prefix).await, Err(StoreError::Conflict(_))));
    assert_eq!(s.store.get_api_key_by_prefix("hb_00000002").await.unwrap(), Some(k2.clone()));
    assert_eq!(s.store.get_api_key_by_prefix("hb_99999999").await.unwrap(), None);
    assert_eq!(s.store.list_api_keys(&a.id).await.unwrap(), vec![k2.info.clone(), k1.info.clone()]);
    assert_eq!(s.store.list_api_keys(&b.id).await.unwrap(), vec![kb.info.clone()]);

    let at = ts("2026-03-05T00:00:00.000Z");
    assert!(!s.store.revoke_api_key(&b.id, &k1.info.id, at).await.unwrap(), "another tenant's key");
    assert!(s.store.revoke_api_key(&a.id, &k1.info.id, at).await.unwrap());
    assert!(!s.store.revoke_api_key(&a.id, &k1.info.id, at).await.unwrap(), "already revoked");
    s.store.touch_api_key(&k2.info.id, at).await.unwrap();
    let listed = s.store.list_api_keys(&a.id).await.unwrap();
    assert_eq!(listed[0].last_used_at, Some(at));
    assert_eq!(listed[1].revoked_at, Some(at));
    assert!(s.store.get_api_key_by_prefix("hb_00000003").await.unwrap().unwrap().info.revoked_at.is_none());
}

/// Two owners demoting (or removing) each other at the same instant: one
/// wins, and the tenant keeps an owner.
pub async fn simultaneous_demotions_keep_an_owner(s: Subject) {
    use server::store::MembershipChange;
    for remove in [false, true] {
        let a = tenant("a");
        s.store.insert_tenant(&a).await.unwrap();
        let (x, y) = (user(&format!("x{remove}@example.com")), user(&format!("y{remove}@example.com")));
        for u in [&x, &y] {
            s.store.insert_user(u).await.unwrap();
            let m = Membership {
                tenant_id: a.id.clone(),
                user_id: u.id.clone(),
                role: Role::Owner,
                created_at: ids::now(),
            };
            s.store.set_membership(&m).await.unwrap();
        }
        let barrier = Arc::new(tokio::sync::Barrier::new(2));
        let handles: Vec<_> = [x.id.clone(), y.id.clone()]
            .into_iter()
            .map(|uid| {
                let (store, barrier, tid) = (s.store.clone(), barrier.clone(), a.id.clone());
                tokio::spawn(async move {
                    barrier.wait().await;
                    let to = if remove { None } else { Some(Role::Admin) };
                    store.change_membership(&tid, &uid, to).await.unwrap()
                })
            })
            .collect();
        let mut outcomes = Vec::new();
        for h in handles {
            outcomes.push(h.await.unwrap());
        }
        outcomes.sort_by_key(|o| format!("{o:?}"));
        assert_eq!(outcomes, [MembershipChange::Changed { from: Role::Owner }, MembershipChange::LastOwner]);
        let owners =
            s.store.memberships_of_tenant(&a.id).await.unwrap().into_iter().filter(|m| m.role == Role::Owner).count();
        assert_eq!(owners, 1, "remove={remove}");
        // The last owner can neither go nor step down; a member can; a stranger is not found.
        let last =
            s.store.memberships_of_tenant(&a.id).await.unwrap().into_iter().find(|m| m.role == Role::Owner).unwrap();
        assert_eq!(s.store.change_membership(&a.id, &last.user_id, None).await.unwrap(), MembershipChange::LastOwner);
        assert_eq!(
            s.store.change_membership(&a.id, &last.user_id, Some(Role::Member)).await.unwrap(),
            MembershipChange::LastOwner
        );
        assert_eq!(
            s.store.change_membership(&a.id, &last.user_id, Some(Role::Owner)).await.unwrap(),
            MembershipChange::Changed { from: Role::Owner }
        );
        assert_eq!(s.store.change_membership(&a.id, &ids::new_id(), None).await.unwrap(), MembershipChange::NotFound);
    }
    // Promoted again, an owner can step down once another exists.
    let a = tenant("p");
    s.store.insert_tenant(&a).await.unwrap();
    let (x, y) = (user("px@example.com"), user("py@example.com"));
    for (u, role) in [(&x, Role::Owner), (&y, Role::Member)] {
        s.store.insert_user(u).await.unwrap();
        let m = Membership { tenant_id: a.id.clone(), user_id: u.id.clone(), role, created_at: ids::now() };
        s.store.set_membership(&m).await.unwrap();
    }
    assert_eq!(s.store.change_membership(&a.id, &x.id, Some(Role::Admin)).await.unwrap(), MembershipChange::LastOwner);
    assert_eq!(
        s.store.change_membership(&a.id, &y.id, Some(Role::Owner)).await.unwrap(),
        MembershipChange::Changed { from: Role::Member }
    );
    assert_eq!(
        s.store.change_membership(&a.id, &x.id, Some(Role::Admin)).await.unwrap(),
        MembershipChange::Changed { from: Role::Owner }
    );
    assert_eq!(s.store.change_membership(&a.id, &y.id, None).await.unwrap(), MembershipChange::LastOwner);
}

pub async fn preferences_change_field_by_field(s: Subject) {
    use app::models::{NotificationType, Preferences, PreferencesPatch, Priority};
    assert_eq!(s.store.get_preferences("u1").await.unwrap(), None);
    let high = PreferencesPatch { toast_min_priority: Some(Priority::High), ..Default::default() };
    let muted =
        PreferencesPatch { muted_types: Some(vec![NotificationType::Info]), desktop: Some(true), ..Default::default() };
    // Two changes at the same instant, of different fields: both stay.
    let (a, b) = tokio::join!(s.store.update_preferences("u1", &high), s.store.update_preferences("u1", &muted));
    a.unwrap();
    b.unwrap();
    let both =
        Preferences { toast_min_priority: Priority::High, muted_types: vec![NotificationType::Info], desktop: true };
    assert_eq!(s.store.get_preferences("u1").await.unwrap(), Some(both.clone()));
    assert_eq!(s.store.get_preferences("u2").await.unwrap(), None, "each user's own");
    let off = PreferencesPatch { desktop: Some(false), muted_types: Some(vec![]), ..Default::default() };
    let now = s.store.update_preferences("u1", &off).await.unwrap();
    assert_eq!(now, Preferences { desktop: false, muted_types: vec![], ..both });
}
