//! Identity in MongoDB: `users`, `memberships`, `sessions` (expired by a TTL
//! index) and `api_keys`. Without transactions, the last-owner rule is kept
//! by the tenant document's list of its owners (`owners`), changed by
//! conditional writes.

use app::models::{ApiKeyId, Preferences, PreferencesPatch, Role, TenantId, Timestamp, UserId};
use async_trait::async_trait;
use mongodb::bson::{doc, oid::ObjectId, Bson, Document};

use super::{
    docs::{
        api_key_doc, api_key_from, corrupt, membership_from, oid, session_doc, session_from, to_date, user_doc,
        user_from,
    },
    is_duplicate, map_err,
    query::{all, exists, latest, matched, modified, one, run},
    MongoStore,
};
use crate::store::{ApiKey, ApiKeyInfo, IdentityStore, Membership, MembershipChange, Session, StoreResult, User};

impl MongoStore {
    /// Gives a tenant document its list of owners (`owners`) when it has
    /// none yet (tenants created before the list existed), from its memberships.
    async fn ensure_owner_list(&self, t: ObjectId) -> StoreResult<()> {
        if exists(self.tenants.find_one(doc! {"_id": t, "owners": {"$exists": true}})).await? {
            return Ok(());
        }
        let owners: Vec<Bson> = all(self.memberships.find(doc! {"tenantId": t, "role": Role::Owner.as_str()}), |d| {
            Ok(d.get_object_id("userId").ok().map(Bson::ObjectId))
        })
        .await?
        .into_iter()
        .flatten()
        .collect();
        run(self.tenants.update_one(doc! {"_id": t, "owners": {"$exists": false}}, doc! {"$set": {"owners": owners}}))
            .await
            .map(|_| ())
    }

    /// Whether `u` is an owner of `t` by its membership.
    async fn is_owner(&self, t: ObjectId, u: ObjectId) -> StoreResult<bool> {
        exists(self.memberships.find_one(doc! {"tenantId": t, "userId": u, "role": Role::Owner.as_str()})).await
    }

    /// Puts `u` on `t`'s list of owners (where the list exists), then takes it
    /// off again if its membership is no longer an owner's: a demotion or a
    /// removal between the membership's write and this one must not leave a
    /// non-owner on the list, where it would let the last real owner go.
    async fn list_as_owner(&self, t: ObjectId, u: ObjectId) -> StoreResult<()> {
        let listed = doc! {"_id": t, "owners": {"$exists": true}};
        run(self.tenants.update_one(listed, doc! {"$addToSet": {"owners": u}})).await?;
        if !self.is_owner(t, u).await? {
            run(self.tenants.update_one(doc! {"_id": t}, doc! {"$pull": {"owners": u}})).await?;
        }
        Ok(())
    }

    /// Memberships matching `filter`, in `sort` order.
    async fn find_memberships(&self, filter: Document, sort: Document) -> StoreResult<Vec<Membership>> {
        all(self.memberships.find(filter).sort(sort), membership_from).await
    }
}

#[async_trait]
impl IdentityStore for MongoStore {
    async fn insert_user(&self, user: &User) -> StoreResult<()> {
        run(self.users.insert_one(user_doc(user)?)).await.map(|_| ())
    }

    async fn get_user(&self, user_id: &UserId) -> StoreResult<Option<User>> {
        let Ok(id) = ObjectId::parse_str(user_id) else {
            return Ok(None);
        };
        one(self.users.find_one(doc! {"_id": id}), user_from).await
    }

    async fn get_user_by_email(&self, email: &str) -> StoreResult<Option<User>> {
        one(self.users.find_one(doc! {"email": email.to_lowercase()}), user_from).await
    }

    async fn set_membership(&self, m: &Membership) -> StoreResult<()> {
        let (t, u) = (oid(&m.tenant_id)?, oid(&m.user_id)?);
        let key = doc! {"tenantId": t, "userId": u};
        let update = doc! {"$set": {"role": m.role.as_str()}, "$setOnInsert": {"createdAt": to_date(&m.created_at)}};
        match self.memberships.update_one(key.clone(), update.clone()).upsert(true).await {
            Ok(_) => {}
            // Two upserts racing on the unique index: the other inserted; apply the role now.
            Err(e) if is_duplicate(&e) => {
                run(self.memberships.update_one(key, update)).await?;
            }
            Err(e) => return Err(map_err(e)),
        }
        // The tenant's list of owners (see `change_membership`), where it exists already.
        if m.role == Role::Owner {
            return self.list_as_owner(t, u).await;
        }
        run(self.tenants.update_one(doc! {"_id": t, "owners": {"$exists": true}}, doc! {"$pull": {"owners": u}}))
            .await
            .map(|_| ())
    }

    async fn add_membership(&self, m: &Membership) -> StoreResult<bool> {
        let (t, u) = (oid(&m.tenant_id)?, oid(&m.user_id)?);
        let insert = doc! {"$setOnInsert": {"role": m.role.as_str(), "createdAt": to_date(&m.created_at)}};
        let added = match self.memberships.update_one(doc! {"tenantId": t, "userId": u}, insert).upsert(true).await {
            Ok(r) => r.upserted_id.is_some(),
            // Two upserts racing on the unique index: the other one added it.
            Err(e) if is_duplicate(&e) => false,
            Err(e) => return Err(map_err(e)),
        };
        if added && m.role == Role::Owner {
            // On the tenant's list of owners (see `change_membership`), where it exists already.
            self.list_as_owner(t, u).await?;
        }
        Ok(added)
    }

    async fn record_sign_in(&self, user_id: &UserId, at: Timestamp) -> StoreResult<()> {
        let Ok(id) = ObjectId::parse_str(user_id) else {
            return Ok(());
        };
        run(self.users.update_one(doc! {"_id": id}, doc! {"$set": {"lastSignInAt": to_date(&at)}})).await.map(|_| ())
    }

    async fn update_password(&self, user_id: &UserId, from: &str, to: &str) -> StoreResult<bool> {
        let Ok(id) = ObjectId::parse_str(user_id) else {
            return Ok(false);
        };
        matched(self.users.update_one(doc! {"_id": id, "passwordHash": from}, doc! {"$set": {"passwordHash": to}}))
            .await
    }

    async fn change_membership(
        &self,
        tenant_id: &TenantId,
        user_id: &UserId,
        to: Option<Role>,
    ) -> StoreResult<MembershipChange> {
        let (Ok(t), Ok(u)) = (ObjectId::parse_str(tenant_id), ObjectId::parse_str(user_id)) else {
            return Ok(MembershipChange::NotFound);
        };
        let key = doc! {"tenantId": t, "userId": u};
        let Some(current) = run(self.memberships.find_one(key.clone())).await? else {
            return Ok(MembershipChange::NotFound);
        };
        let from = current.get_str("role").ok().and_then(Role::parse).ok_or_else(|| corrupt("membership role"))?;
        let demoting = from == Role::Owner && to != Some(Role::Owner);
        if demoting {
            // Without transactions, the tenant document keeps the list of its
            // owners: one conditional write takes this owner off it only while
            // another remains, so of two simultaneous demotions one fails.
            self.ensure_owner_list(t).await?;
            let mut taken = false;
            for _ in 0..2 {
                let pulled = modified(self.tenants.update_one(
                    doc! {"_id": t, "owners": u, "owners.1": {"$exists": true}},
                    doc! {"$pull": {"owners": u}},
                ))
                .await?;
                if pulled {
                    taken = true;
                    break;
                }
                let listed = exists(self.tenants.find_one(doc! {"_id": t, "owners": u})).await?;
                let still_owner = self.is_owner(t, u).await?;
                if listed || !still_owner {
                    break;
                }
                // An owner missing from the list (a change that died half-way): put it back, try once more.
                run(self.tenants.update_one(doc! {"_id": t}, doc! {"$addToSet": {"owners": u}})).await?;
            }
            if !taken {
                return Ok(MembershipChange::LastOwner);
            }
        }
        // The membership changes only if it is still what was read.
        let mut still = key.clone();
        still.insert("role", from.as_str());
        let changed = match to {
            Some(role) => {
                run(self.memberships.update_one(still, doc! {"$set": {"role": role.as_str()}})).await?.matched_count
            }
            None => run(self.memberships.delete_one(still)).await?.deleted_count,
        };
        if changed == 0 {
            // Undo: it is an owner again on the list only if its membership says so.
            if demoting && self.is_owner(t, u).await? {
                run(self.tenants.update_one(doc! {"_id": t}, doc! {"$addToSet": {"owners": u}})).await?;
            }
            return Ok(MembershipChange::Concurrent);
        }
        if to == Some(Role::Owner) {
            self.ensure_owner_list(t).await?;
            self.list_as_owner(t, u).await?;
        }
        Ok(MembershipChange::Changed { from })
    }

    async fn memberships_of_user(&self, user_id: &UserId) -> StoreResult<Vec<Membership>> {
        let Ok(id) = ObjectId::parse_str(user_id) else {
            return Ok(Vec::new());
        };
        self.find_memberships(doc! {"userId": id}, doc! {"createdAt": 1, "tenantId": 1}).await
    }

    async fn memberships_of_tenant(&self, tenant_id: &TenantId) -> StoreResult<Vec<Membership>> {
        let Ok(id) = ObjectId::parse_str(tenant_id) else {
            return Ok(Vec::new());
        };
        self.find_memberships(doc! {"tenantId": id}, doc! {"createdAt": 1, "userId": 1}).await
    }

    async fn delete_membership(&self, tenant_id: &TenantId, user_id: &UserId) -> StoreResult<bool> {
        let (Ok(t), Ok(u)) = (ObjectId::parse_str(tenant_id), ObjectId::parse_str(user_id)) else {
            return Ok(false);
        };
        let deleted = run(self.memberships.delete_one(doc! {"tenantId": t, "userId": u})).await?;
        Ok(deleted.deleted_count > 0)
    }

    async fn insert_session(&self, session: &Session) -> StoreResult<()> {
        run(self.sessions.insert_one(session_doc(session)?)).await.map(|_| ())
    }

    async fn get_session(&self, token_hash: &str, now: Timestamp) -> StoreResult<Option<Session>> {
        one(self.sessions.find_one(doc! {"_id": token_hash, "expiresAt": {"$gt": to_date(&now)}}), session_from).await
    }

    async fn touch_session(
        &self,
        token_hash: &str,
        last_seen_at: Timestamp,
        idle_expires_at: Timestamp,
    ) -> StoreResult<bool> {
        matched(self.sessions.update_one(
            doc! {"_id": token_hash, "revokedAt": Bson::Null},
            doc! {"$set": {"lastSeenAt": to_date(&last_seen_at), "idleExpiresAt": to_date(&idle_expires_at)}},
        ))
        .await
    }

    async fn revoke_session(&self, token_hash: &str, at: Timestamp) -> StoreResult<bool> {
        modified(
            self.sessions.update_one(
                doc! {"_id": token_hash, "revokedAt": Bson::Null},
                doc! {"$set": {"revokedAt": to_date(&at)}},
            ),
        )
        .await
    }

    async fn revoke_user_sessions(&self, user_id: &UserId, at: Timestamp) -> StoreResult<u64> {
        let Ok(id) = ObjectId::parse_str(user_id) else {
            return Ok(0);
        };
        let revoked = run(self
            .sessions
            .update_many(doc! {"userId": id, "revokedAt": Bson::Null}, doc! {"$set": {"revokedAt": to_date(&at)}}))
        .await?;
        Ok(revoked.modified_count)
    }

    async fn revoke_other_sessions(&self, user_id: &UserId, keep: &str, at: Timestamp) -> StoreResult<Vec<String>> {
        let Ok(id) = ObjectId::parse_str(user_id) else {
            return Ok(Vec::new());
        };
        let filter = doc! {"userId": id, "_id": {"$ne": keep}, "revokedAt": Bson::Null};
        run(self.sessions.update_many(filter, doc! {"$set": {"revokedAt": to_date(&at)}})).await?;
        // Those this revoked (no transaction to return them from): revoked at this very instant.
        let revoked = doc! {"userId": id, "_id": {"$ne": keep}, "revokedAt": to_date(&at)};
        all(self.sessions.find(revoked), |d| d.get_str("_id").map(str::to_owned).map_err(|_| corrupt("session id")))
            .await
    }

    async fn list_sessions(&self, user_id: &UserId, now: Timestamp) -> StoreResult<Vec<Session>> {
        let Ok(id) = ObjectId::parse_str(user_id) else {
            return Ok(Vec::new());
        };
        let now = to_date(&now);
        let filter =
            doc! {"userId": id, "revokedAt": Bson::Null, "expiresAt": {"$gt": now}, "idleExpiresAt": {"$gt": now}};
        all(self.sessions.find(filter).sort(doc! {"lastSeenAt": -1, "createdAt": -1}), session_from).await
    }

    async fn purge_sessions(&self, now: Timestamp) -> StoreResult<u64> {
        let purged = run(self.sessions.delete_many(doc! {"expiresAt": {"$lte": to_date(&now)}})).await?;
        Ok(purged.deleted_count)
    }

    async fn insert_api_key(&self, key: &ApiKey) -> StoreResult<()> {
        run(self.api_keys.insert_one(api_key_doc(key)?)).await.map(|_| ())
    }

    async fn get_api_key_by_prefix(&self, prefix: &str) -> StoreResult<Option<ApiKey>> {
        one(self.api_keys.find_one(doc! {"prefix": prefix}), api_key_from).await
    }

    async fn list_api_keys(&self, tenant_id: &TenantId) -> StoreResult<Vec<ApiKeyInfo>> {
        let Ok(id) = ObjectId::parse_str(tenant_id) else {
            return Ok(Vec::new());
        };
        all(latest(&self.api_keys, doc! {"tenantId": id}, u32::MAX), |d| api_key_from(d).map(|k| k.info)).await
    }

    async fn revoke_api_key(&self, tenant_id: &TenantId, id: &ApiKeyId, at: Timestamp) -> StoreResult<bool> {
        let (Ok(t), Ok(k)) = (ObjectId::parse_str(tenant_id), ObjectId::parse_str(id)) else {
            return Ok(false);
        };
        modified(self.api_keys.update_one(
            doc! {"_id": k, "tenantId": t, "revokedAt": Bson::Null},
            doc! {"$set": {"revokedAt": to_date(&at)}},
        ))
        .await
    }

    async fn touch_api_key(&self, id: &ApiKeyId, at: Timestamp) -> StoreResult<()> {
        let Ok(k) = ObjectId::parse_str(id) else {
            return Ok(());
        };
        run(self.api_keys.update_one(doc! {"_id": k}, doc! {"$set": {"lastUsedAt": to_date(&at)}})).await.map(|_| ())
    }

    async fn get_preferences(&self, owner: &str) -> StoreResult<Option<Preferences>> {
        one(self.preferences.find_one(doc! {"_id": owner}), preferences_from).await
    }

    async fn update_preferences(&self, owner: &str, patch: &PreferencesPatch) -> StoreResult<Preferences> {
        // One `$set` of just the named fields: changes at the same instant both apply.
        let mut set = Document::new();
        if let Some(p) = patch.toast_min_priority {
            set.insert("toastMinPriority", p.as_str());
        }
        if let Some(types) = &patch.muted_types {
            set.insert("mutedTypes", types.iter().map(|t| t.as_str()).collect::<Vec<_>>());
        }
        if let Some(desktop) = patch.desktop {
            set.insert("desktop", desktop);
        }
        if set.is_empty() {
            return Ok(self.get_preferences(owner).await?.unwrap_or_default());
        }
        // The document as this change left it (not as a later one did), so the answer and the
        // broadcast of each change are that change's.
        let now = self
            .preferences
            .find_one_and_update(doc! {"_id": owner}, doc! {"$set": set})
            .upsert(true)
            .return_document(mongodb::options::ReturnDocument::After);
        Ok(one(now, preferences_from).await?.unwrap_or_default())
    }
}

/// Stored preferences; a field missing or unknown keeps its default.
fn preferences_from(d: &Document) -> StoreResult<Preferences> {
    let mut p = Preferences::default();
    if let Some(priority) = d.get_str("toastMinPriority").ok().and_then(app::models::Priority::parse) {
        p.toast_min_priority = priority;
    }
    if let Ok(types) = d.get_array("mutedTypes") {
        p.muted_types =
            types.iter().filter_map(|t| t.as_str().and_then(app::models::NotificationType::parse)).collect();
    }
    p.desktop = d.get_bool("desktop").unwrap_or(false);
    Ok(p)
}
