//! Invitations in SQLite: the `invitations` table. Claiming one is a single
//! conditional `UPDATE`, so of simultaneous acceptances exactly one wins.

use app::models::{InvitationId, TenantId, Timestamp, UserId};
use async_trait::async_trait;

use super::{
    query::vals,
    rows::{invitation_from_row, invitation_values, INVITATION_COLUMNS},
    SqliteStore,
};
use crate::store::{Invitation, InvitationStore, StoreResult};

#[async_trait]
impl InvitationStore for SqliteStore {
    async fn insert_invitation(&self, invitation: &Invitation) -> StoreResult<()> {
        let sql = format!(
            "INSERT INTO invitations ({INVITATION_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
        );
        self.exec(sql, invitation_values(invitation)).await.map(|_| ())
    }

    async fn invitation_by_token(&self, token_hash: &str) -> StoreResult<Option<Invitation>> {
        let sql = format!("SELECT {INVITATION_COLUMNS} FROM invitations WHERE token_hash = ?1");
        self.one(sql, vals![token_hash], invitation_from_row).await
    }

    async fn get_invitation(&self, tenant_id: &TenantId, id: &InvitationId) -> StoreResult<Option<Invitation>> {
        let sql = format!("SELECT {INVITATION_COLUMNS} FROM invitations WHERE tenant_id = ?1 AND id = ?2");
        self.one(sql, vals![tenant_id, id], invitation_from_row).await
    }

    async fn pending_invitations(&self, tenant_id: &TenantId, now: Timestamp) -> StoreResult<Vec<Invitation>> {
        let sql = format!(
            "SELECT {INVITATION_COLUMNS} FROM invitations WHERE tenant_id = ?1 AND accepted_at IS NULL \
             AND revoked_at IS NULL AND expires_at > ?2 ORDER BY created_at DESC, id DESC"
        );
        self.all(sql, vals![tenant_id, now], invitation_from_row).await
    }

    async fn revoke_invitation(&self, tenant_id: &TenantId, id: &InvitationId, at: Timestamp) -> StoreResult<bool> {
        let sql = "UPDATE invitations SET revoked_at = ?3 WHERE tenant_id = ?1 AND id = ?2 \
                   AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > ?3";
        Ok(self.exec(sql, vals![tenant_id, id, at]).await? > 0)
    }

    async fn claim_invitation(&self, token_hash: &str, user_id: &UserId, at: Timestamp) -> StoreResult<bool> {
        let sql = "UPDATE invitations SET accepted_at = ?3, accepted_by = ?2 WHERE token_hash = ?1 \
                   AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > ?3";
        Ok(self.exec(sql, vals![token_hash, user_id, at]).await? > 0)
    }

    async fn release_invitation(&self, token_hash: &str, user_id: &UserId, at: Timestamp) -> StoreResult<()> {
        let sql = "UPDATE invitations SET accepted_at = NULL, accepted_by = NULL \
                   WHERE token_hash = ?1 AND accepted_by = ?2 AND accepted_at = ?3";
        self.exec(sql, vals![token_hash, user_id, at]).await.map(|_| ())
    }
}
