//! Invitations in MongoDB: the `invitations` collection, keyed by id with a
//! unique `tokenHash`. Claiming one is a single conditional update, so of
//! simultaneous acceptances exactly one wins, without transactions.

use app::models::{InvitationId, Role, TenantId, Timestamp, UserId};
use async_trait::async_trait;
use mongodb::bson::{doc, oid::ObjectId, Bson, DateTime, Document};
use serde::{Deserialize, Serialize};

use super::{
    docs::{corrupt, from_date, from_doc, oid, to_date, to_doc},
    query::{all, modified, one, run},
    MongoStore,
};
use crate::store::{Invitation, InvitationStore, StoreResult};

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct InvitationDoc {
    #[serde(rename = "_id")]
    id: ObjectId,
    tenant_id: ObjectId,
    email: String,
    role: String,
    token_hash: String,
    invited_by: String,
    created_at: DateTime,
    expires_at: DateTime,
    accepted_at: Option<DateTime>,
    accepted_by: Option<ObjectId>,
    revoked_at: Option<DateTime>,
}

fn invitation_doc(i: &Invitation) -> StoreResult<Document> {
    to_doc(&InvitationDoc {
        id: oid(&i.id)?,
        tenant_id: oid(&i.tenant_id)?,
        email: i.email.clone(),
        role: i.role.as_str().to_owned(),
        token_hash: i.token_hash.clone(),
        invited_by: i.invited_by.clone(),
        created_at: to_date(&i.created_at),
        expires_at: to_date(&i.expires_at),
        accepted_at: i.accepted_at.as_ref().map(to_date),
        accepted_by: i.accepted_by.as_ref().map(|u| oid(u)).transpose()?,
        revoked_at: i.revoked_at.as_ref().map(to_date),
    })
}

fn invitation_from(d: &Document) -> StoreResult<Invitation> {
    let i: InvitationDoc = from_doc(d, "invitation")?;
    Ok(Invitation {
        id: i.id.to_hex().into(),
        tenant_id: i.tenant_id.to_hex().into(),
        email: i.email,
        role: Role::parse(&i.role).ok_or_else(|| corrupt("invitation role"))?,
        token_hash: i.token_hash,
        invited_by: i.invited_by,
        created_at: from_date(i.created_at),
        expires_at: from_date(i.expires_at),
        accepted_at: i.accepted_at.map(from_date),
        accepted_by: i.accepted_by.map(|u| u.to_hex().into()),
        revoked_at: i.revoked_at.map(from_date),
    })
}

/// The filter of invitations pending at `now`.
fn pending(mut filter: Document, now: &Timestamp) -> Document {
    filter.insert("acceptedAt", Bson::Null);
    filter.insert("revokedAt", Bson::Null);
    filter.insert("expiresAt", doc! {"$gt": to_date(now)});
    filter
}

#[async_trait]
impl InvitationStore for MongoStore {
    async fn insert_invitation(&self, invitation: &Invitation) -> StoreResult<()> {
        run(self.invitations.insert_one(invitation_doc(invitation)?)).await.map(|_| ())
    }

    async fn invitation_by_token(&self, token_hash: &str) -> StoreResult<Option<Invitation>> {
        one(self.invitations.find_one(doc! {"tokenHash": token_hash}), invitation_from).await
    }

    async fn get_invitation(&self, tenant_id: &TenantId, id: &InvitationId) -> StoreResult<Option<Invitation>> {
        let (Ok(t), Ok(i)) = (ObjectId::parse_str(tenant_id), ObjectId::parse_str(id)) else {
            return Ok(None);
        };
        one(self.invitations.find_one(doc! {"_id": i, "tenantId": t}), invitation_from).await
    }

    async fn pending_invitations(&self, tenant_id: &TenantId, now: Timestamp) -> StoreResult<Vec<Invitation>> {
        let Ok(t) = ObjectId::parse_str(tenant_id) else {
            return Ok(Vec::new());
        };
        let find = self.invitations.find(pending(doc! {"tenantId": t}, &now)).sort(doc! {"createdAt": -1, "_id": -1});
        all(find, invitation_from).await
    }

    async fn revoke_invitation(&self, tenant_id: &TenantId, id: &InvitationId, at: Timestamp) -> StoreResult<bool> {
        let (Ok(t), Ok(i)) = (ObjectId::parse_str(tenant_id), ObjectId::parse_str(id)) else {
            return Ok(false);
        };
        let filter = pending(doc! {"_id": i, "tenantId": t}, &at);
        modified(self.invitations.update_one(filter, doc! {"$set": {"revokedAt": to_date(&at)}})).await
    }

    async fn claim_invitation(&self, token_hash: &str, user_id: &UserId, at: Timestamp) -> StoreResult<bool> {
        let filter = pending(doc! {"tokenHash": token_hash}, &at);
        let set = doc! {"$set": {"acceptedAt": to_date(&at), "acceptedBy": oid(user_id)?}};
        modified(self.invitations.update_one(filter, set)).await
    }

    async fn release_invitation(&self, token_hash: &str, user_id: &UserId, at: Timestamp) -> StoreResult<()> {
        let filter = doc! {"tokenHash": token_hash, "acceptedBy": oid(user_id)?, "acceptedAt": to_date(&at)};
        let unset = doc! {"$set": {"acceptedAt": Bson::Null, "acceptedBy": Bson::Null}};
        run(self.invitations.update_one(filter, unset)).await.map(|_| ())
    }
}
