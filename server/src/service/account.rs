//! A user's own account: who they are, their sessions (sign out one or all),
//! a new password (the current one required; every other session ends) and
//! leaving a tenant (not as its last owner). Only signed-in users have one.

use app::{
    input::{Parsed, PasswordChange},
    models::{device_of, AccountView, SessionInfo, TenantId},
};
use serde_json::json;

use super::{push::Sockets, Presented, Services, UserCtx};
use crate::{
    error::{ApiError, FieldError},
    ids,
    store::{MembershipChange, Session, User},
};

/// What a password change did.
pub struct PasswordChanged {
    /// How many of the user's other sessions ended.
    pub other_sessions_ended: u64,
    /// This browser's new session token (its old one ended), when it came with one.
    pub token: Option<String>,
}

/// How many hex digits of a session's token hash name it to its user.
const SESSION_ID_LEN: usize = 32;

fn session_id(s: &Session) -> &str {
    s.token_hash.get(..SESSION_ID_LEN).unwrap_or(&s.token_hash)
}

impl Services {
    /// `GET /api/me/account`: the user, their live sessions (this one
    /// marked) and their tenants.
    pub async fn account(&self, me: &UserCtx, req: &Presented) -> Result<AccountView, ApiError> {
        let user_id = &me.user_id;
        let user = self.store.get_user(user_id).await?.ok_or(ApiError::Unauthorized("The session has ended"))?;
        let current = req.session_token.as_deref().map(|t| self.session_token_hash(t));
        let sessions = self
            .store
            .list_sessions(user_id, ids::now())
            .await?
            .iter()
            .map(|s| SessionInfo {
                id: session_id(s).to_owned(),
                current: current.as_deref() == Some(s.token_hash.as_str()),
                device: device_of(s.user_agent.as_deref()),
                ip: s.ip.clone(),
                created_at: s.created_at,
                last_seen_at: s.last_seen_at,
            })
            .collect();
        let tenants = self.tenants_of(&self.store.memberships_of_user(user_id).await?).await?;
        Ok(AccountView { user_id: user.id, email: user.email, name: user.name, sessions, tenants })
    }

    /// `POST /api/me/password` with `{currentPassword, newPassword}`: every
    /// other session of the user ends, and the sockets opened with them close.
    /// This browser goes on with a new session token: its old one ends too, so
    /// whoever holds a copy of it (often the reason for the change) is out.
    pub async fn change_password(
        &self,
        me: &UserCtx,
        req: &Presented,
        change: Parsed<PasswordChange>,
    ) -> Result<PasswordChanged, ApiError> {
        let user_id = &me.user_id;
        let change = change.map_err(ApiError::Validation)?;
        if change.current_password.len() > 1024 {
            return Err(ApiError::Validation(vec![FieldError::new("currentPassword", "is not your current password")]));
        }
        let user = self.store.get_user(user_id).await?.ok_or(ApiError::Unauthorized("The session has ended"))?;
        // Guessing the current password here costs what a login costs.
        self.login_limiter_email.check(&user.email).await.map_err(ApiError::rate_limited)?;
        if !self.verify_in_turn(&change.current_password, &user.password_hash).await? {
            return Err(ApiError::Validation(vec![FieldError::new("currentPassword", "is not your current password")]));
        }
        super::auth::check_password_rules(&change.new_password).map_err(|_| {
            ApiError::Validation(vec![FieldError::new("newPassword", "must be 8 characters to 1024 bytes")])
        })?;
        let hash = self.hash_in_turn(&change.new_password).await?;
        if !self.store.update_password(user_id, &user.password_hash, &hash).await? {
            return Err(ApiError::Conflict("The password was changed at the same time; sign in again".into()));
        }
        // Every session ends first, this browser's too, before anything else can fail: a
        // password that changed never leaves a session of the old one behind.
        let ended = self.store.revoke_other_sessions(user_id, "", ids::now()).await?;
        for hash in &ended {
            // This browser's sockets too: they reconnect with the new token.
            self.broadcaster.disconnect(Sockets::Session(hash)).await;
        }
        let old = req.session_token.as_deref().map(|t| self.session_token_hash(t));
        let others = ended.iter().filter(|h| Some(h.as_str()) != old.as_deref()).count() as u64;
        // Then this browser goes on with a new session (it came with one: a user's session).
        let token = match old {
            Some(_) => {
                let user = User { password_hash: hash, ..user };
                let fresh = self.new_session(user, req.source_ip.clone(), req.user_agent.clone()).await.map_err(
                    |e| match e {
                        // A later change won meanwhile and ended every session, this new one too.
                        ApiError::Unauthorized(_) => {
                            ApiError::Conflict("The password was changed again at the same time; sign in again".into())
                        }
                        e => e,
                    },
                )?;
                Some(fresh.token)
            }
            None => None,
        };
        Ok(PasswordChanged { other_sessions_ended: others, token })
    }

    /// `DELETE /api/me/sessions/{id}`: ends one of the user's sessions (this
    /// one too, if named) and closes its sockets.
    pub async fn end_session(&self, me: &UserCtx, id: &str) -> Result<(), ApiError> {
        let user_id = &me.user_id;
        let id = id.trim().to_ascii_lowercase();
        if id.len() != SESSION_ID_LEN || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ApiError::NotFound("Session"));
        }
        let sessions = self.store.list_sessions(user_id, ids::now()).await?;
        let session = sessions.iter().find(|s| session_id(s) == id).ok_or(ApiError::NotFound("Session"))?;
        self.store.revoke_session(&session.token_hash, ids::now()).await?;
        self.broadcaster.disconnect(Sockets::Session(&session.token_hash)).await;
        Ok(())
    }

    /// `POST /api/me/tenants/{tenantId}/leave`: the user leaves one of their
    /// tenants (409 as its last owner); their sockets there close at once.
    pub async fn leave_tenant(&self, me: &UserCtx, tenant_id: &str) -> Result<(), ApiError> {
        let user_id = &me.user_id;
        let tenant_id = TenantId::parse(tenant_id).ok_or(ApiError::NotFound("Membership"))?;
        let from = match self.store.change_membership(&tenant_id, user_id, None).await? {
            MembershipChange::Changed { from } => from,
            MembershipChange::LastOwner => {
                return Err(ApiError::Conflict(
                    "You are this tenant's last owner: make another member an owner first".into(),
                ))
            }
            MembershipChange::NotFound => return Err(ApiError::NotFound("Membership")),
            MembershipChange::Concurrent => {
                return Err(ApiError::Conflict("The membership changed at the same time; try again".into()))
            }
        };
        self.broadcaster.disconnect(Sockets::User(user_id)).await;
        let actor = me.actor();
        let details = json!({"email": self.email_of(user_id.as_str()).await?, "from": from, "to": null});
        self.audit_as((&tenant_id, &actor, me.source_ip.clone()), "member.left", "user", user_id.as_str(), details)
            .await?;
        self.announce_team_change(&tenant_id, "member-left").await;
        Ok(())
    }
}
