//! Invitations and the account operations they need: an invitation is used
//! once (of simultaneous claims exactly one wins), not after it expired or
//! was revoked; memberships are added without touching an existing role;
//! sessions are listed live and ended all but one.

use std::{sync::Arc, time::Duration};

use app::models::Role;
use server::{
    ids,
    store::{Invitation, Membership, Session, StoreError, User},
};

use super::{tenant, Subject, DAY};

fn invitation(tenant_id: &app::models::TenantId, email: &str, token_hash: &str) -> Invitation {
    let now = ids::now();
    Invitation {
        id: ids::new_id(),
        tenant_id: tenant_id.clone(),
        email: email.into(),
        role: Role::Admin,
        token_hash: token_hash.into(),
        invited_by: "user:someone".into(),
        created_at: now,
        expires_at: now + 7 * DAY,
        accepted_at: None,
        accepted_by: None,
        revoked_at: None,
    }
}

fn user(email: &str) -> User {
    User {
        id: ids::new_id(),
        email: email.into(),
        name: "Invitee".into(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        created_at: ids::now(),
        last_sign_in_at: None,
    }
}

pub async fn an_invitation_is_used_once_until_it_expires_or_is_revoked(s: Subject) {
    let (a, b) = (tenant("inv-a"), tenant("inv-b"));
    for t in [&a, &b] {
        s.store.insert_tenant(t).await.unwrap();
    }
    let inv = invitation(&a.id, "new@example.com", "hash-1");
    s.store.insert_invitation(&inv).await.unwrap();
    let twin = Invitation { id: ids::new_id(), ..inv.clone() };
    assert!(
        matches!(s.store.insert_invitation(&twin).await, Err(StoreError::Conflict(_))),
        "one token, one invitation"
    );
    assert_eq!(s.store.invitation_by_token("hash-1").await.unwrap().as_ref(), Some(&inv));
    assert_eq!(s.store.get_invitation(&a.id, &inv.id).await.unwrap().as_ref(), Some(&inv));
    assert_eq!(s.store.get_invitation(&b.id, &inv.id).await.unwrap(), None, "scoped by tenant");
    assert_eq!(s.store.pending_invitations(&a.id, ids::now()).await.unwrap(), std::slice::from_ref(&inv));
    assert!(s.store.pending_invitations(&b.id, ids::now()).await.unwrap().is_empty());

    // Eight claims at the same instant: exactly one wins.
    let barrier = Arc::new(tokio::sync::Barrier::new(8));
    let at = ids::now();
    let claims: Vec<_> = (0..8)
        .map(|_| {
            let (store, barrier) = (s.store.clone(), barrier.clone());
            tokio::spawn(async move {
                let who = ids::new_id();
                barrier.wait().await;
                (store.claim_invitation("hash-1", &who, at).await.unwrap(), who)
            })
        })
        .collect();
    let mut winners = Vec::new();
    for c in claims {
        let (won, who) = c.await.unwrap();
        if won {
            winners.push(who);
        }
    }
    assert_eq!(winners.len(), 1, "one claim wins");
    let used = s.store.invitation_by_token("hash-1").await.unwrap().unwrap();
    assert_eq!((used.accepted_at, used.accepted_by.as_ref()), (Some(at), Some(&winners[0])));
    assert!(!used.is_pending(ids::now()));
    assert!(s.store.pending_invitations(&a.id, ids::now()).await.unwrap().is_empty(), "used: not pending");
    assert!(!s.store.revoke_invitation(&a.id, &inv.id, ids::now()).await.unwrap(), "used: not revocable");
    // A claim given back (what followed it failed) makes the link work again; only its own claim.
    s.store.release_invitation("hash-1", &ids::new_id(), at).await.unwrap();
    assert!(s.store.invitation_by_token("hash-1").await.unwrap().unwrap().accepted_at.is_some(), "not another's");
    s.store.release_invitation("hash-1", &winners[0], at).await.unwrap();
    assert!(s.store.invitation_by_token("hash-1").await.unwrap().unwrap().is_pending(ids::now()));

    // Revoked: neither claimable nor revocable again, nor revocable from another tenant.
    assert!(!s.store.revoke_invitation(&b.id, &inv.id, ids::now()).await.unwrap());
    assert!(s.store.revoke_invitation(&a.id, &inv.id, ids::now()).await.unwrap());
    assert!(!s.store.revoke_invitation(&a.id, &inv.id, ids::now()).await.unwrap());
    assert!(!s.store.claim_invitation("hash-1", &ids::new_id(), ids::now()).await.unwrap());

    // Expired: neither pending nor claimable nor revocable.
    let mut old = invitation(&a.id, "late@example.com", "hash-2");
    old.created_at = ids::now() - 8 * DAY;
    old.expires_at = ids::now() - Duration::from_secs(1);
    s.store.insert_invitation(&old).await.unwrap();
    assert!(s.store.pending_invitations(&a.id, ids::now()).await.unwrap().is_empty());
    assert!(!s.store.claim_invitation("hash-2", &ids::new_id(), ids::now()).await.unwrap());
    assert!(!s.store.revoke_invitation(&a.id, &old.id, ids::now()).await.unwrap());
    assert_eq!(s.store.invitation_by_token("nope").await.unwrap(), None);
}

pub async fn memberships_added_once_keep_an_existing_role(s: Subject) {
    let a = tenant("add");
    s.store.insert_tenant(&a).await.unwrap();
    let u = user("member@example.com");
    s.store.insert_user(&u).await.unwrap();
    let m = |role| Membership { tenant_id: a.id.clone(), user_id: u.id.clone(), role, created_at: ids::now() };
    // Two adds at the same instant: one adds, and the role is that of the one that did.
    let barrier = Arc::new(tokio::sync::Barrier::new(2));
    let adds: Vec<_> = [Role::Owner, Role::Owner]
        .into_iter()
        .map(|role| {
            let (store, barrier, m) = (s.store.clone(), barrier.clone(), m(role));
            tokio::spawn(async move {
                barrier.wait().await;
                store.add_membership(&m).await.unwrap()
            })
        })
        .collect();
    let mut added = 0;
    for h in adds {
        added += usize::from(h.await.unwrap());
    }
    assert_eq!(added, 1);
    assert!(!s.store.add_membership(&m(Role::Member)).await.unwrap(), "a member already");
    let now = s.store.memberships_of_tenant(&a.id).await.unwrap();
    assert_eq!((now.len(), now[0].role), (1, Role::Owner), "the role stays");
    // Added as an owner, they count as one for the last-owner rule.
    use server::store::MembershipChange;
    assert_eq!(s.store.change_membership(&a.id, &u.id, None).await.unwrap(), MembershipChange::LastOwner);
}

pub async fn sessions_are_listed_and_all_but_one_end(s: Subject) {
    let u = user("sessions@example.com");
    s.store.insert_user(&u).await.unwrap();
    let now = ids::now();
    let session = |hash: &str, seen: Duration| Session {
        token_hash: hash.into(),
        user_id: u.id.clone(),
        created_at: now - DAY,
        last_seen_at: now - seen,
        idle_expires_at: now + DAY,
        expires_at: now + 6 * DAY,
        revoked_at: None,
        ip: Some("203.0.113.9".into()),
        user_agent: Some("Firefox/121.0".into()),
    };
    for (hash, seen) in [("s-old", 3600), ("s-new", 5), ("s-mid", 60)] {
        s.store.insert_session(&session(hash, Duration::from_secs(seen))).await.unwrap();
    }
    let idle = Session { idle_expires_at: now - Duration::from_secs(1), ..session("s-idle", Duration::from_secs(9)) };
    s.store.insert_session(&idle).await.unwrap();
    let listed: Vec<String> =
        s.store.list_sessions(&u.id, now).await.unwrap().into_iter().map(|s| s.token_hash).collect();
    assert_eq!(listed, ["s-new", "s-mid", "s-old"], "live ones, the most recently used first");
    let mut revoked = s.store.revoke_other_sessions(&u.id, "s-mid", now).await.unwrap();
    revoked.sort();
    assert_eq!(revoked, ["s-idle", "s-new", "s-old"], "the idle one is revoked too");
    let later = now + Duration::from_secs(1);
    assert!(s.store.revoke_other_sessions(&u.id, "s-mid", later).await.unwrap().is_empty(), "none left to revoke");
    let listed: Vec<String> =
        s.store.list_sessions(&u.id, now).await.unwrap().into_iter().map(|s| s.token_hash).collect();
    assert_eq!(listed, ["s-mid"]);
    assert!(s.store.list_sessions(&ids::new_id(), now).await.unwrap().is_empty());

    // A new password replaces only the one it was changed from; a sign-in is kept.
    let old = u.password_hash.as_str();
    assert!(!s.store.update_password(&u.id, "$argon2id$not-it", "$argon2id$new").await.unwrap(), "not its hash");
    assert!(s.store.update_password(&u.id, old, "$argon2id$new").await.unwrap());
    assert!(!s.store.update_password(&u.id, old, "$argon2id$again").await.unwrap(), "changed already");
    assert!(!s.store.update_password(&ids::new_id(), old, "$argon2id$new").await.unwrap());
    s.store.record_sign_in(&u.id, now).await.unwrap();
    let stored = s.store.get_user(&u.id).await.unwrap().unwrap();
    assert_eq!((stored.password_hash.as_str(), stored.last_sign_in_at), ("$argon2id$new", Some(now)));
    assert_eq!(s.store.get_user_by_email("sessions@example.com").await.unwrap().unwrap().last_sign_in_at, Some(now));
}
