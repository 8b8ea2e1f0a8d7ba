//! Invitations: how a tenant's team grows. An owner (or an admin, for the
//! member and admin roles) invites an email address; the answer is a link,
//! shown once, that holds a 256-bit token after `#` (so it reaches no server
//! log or `Referer`). The store keeps only the token's HMAC. The link works
//! for 7 days, once, until revoked; only its acceptance adds the membership.
//!
//! Making an invitation looks at no account: its answer is the same, byte for
//! byte but for the new ids and times, whether or not the email has an
//! account anywhere (no enumeration). The invitee then creates their account
//! or signs in to the one they have; an existing member keeps their role.

use std::time::Duration;

use app::{
    input::{AcceptInvitation, NewInvitation, Parsed},
    models::{CreatedInvitation, InvitationId, InvitationInfo, InvitationPreview, Role, TenantId, UserId},
};
use serde_json::json;

use super::{auth::SignedIn, Ctx, Presented, Services};
use crate::{
    error::ApiError,
    ids,
    store::{Invitation, Membership, StoreError, User},
};

/// How long an invitation's link works.
pub const INVITATION_TTL: Duration = Duration::from_secs(7 * 86_400);

/// What one message says of every link that no longer works.
const LINK_USED: &str = "This invitation has been used, revoked or has expired; ask for a new one";

/// Who makes an invitation, and from where.
pub struct Inviter<'a> {
    pub tenant_id: &'a TenantId,
    /// As audit entries name them: `user:…`, `api-key:…`, `cli`.
    pub actor: String,
    pub source_ip: Option<String>,
}

/// An invitation accepted: the session made for it (none when the browser was
/// signed in already), the tenant joined, and whether the user was a member already.
pub struct Accepted {
    pub signed_in: Option<SignedIn>,
    pub tenant_id: TenantId,
    pub already_member: bool,
}

fn info(i: &Invitation) -> InvitationInfo {
    InvitationInfo {
        id: i.id.clone(),
        email: i.email.clone(),
        role: i.role,
        invited_by: i.invited_by.clone(),
        created_at: i.created_at,
        expires_at: i.expires_at,
    }
}

/// How an invitee proves who they are.
enum Proof {
    /// The browser's live session, of this user.
    Session(User),
    /// A new account with this name and password.
    NewAccount(String),
    /// The password of the existing account.
    Password,
}

impl Services {
    /// The roles `ctx` may invite and whose invitations it may revoke: 403 otherwise.
    fn may_invite(ctx: &Ctx, role: Role) -> Result<(), ApiError> {
        ctx.require(Role::Admin)?;
        if role == Role::Owner && ctx.role < Role::Owner {
            return Err(ApiError::Forbidden("Only an owner may invite an owner".into()));
        }
        Ok(())
    }

    /// `POST /api/members` with `{email, role}`: invites `email` to the
    /// caller's tenant; the link is under `base_url`.
    pub async fn invite(
        &self,
        ctx: &Ctx,
        input: Parsed<NewInvitation>,
        base_url: &str,
    ) -> Result<CreatedInvitation, ApiError> {
        ctx.require(Role::Admin)?;
        let input = input.map_err(ApiError::Validation)?;
        Self::may_invite(ctx, input.role)?;
        let inviter =
            Inviter { tenant_id: &ctx.tenant_id, actor: ctx.principal.actor(), source_ip: ctx.source_ip.clone() };
        self.create_invitation(inviter, &input, base_url).await
    }

    /// Makes an invitation (the REST route, the server function and the CLI's `invite`).
    pub async fn create_invitation(
        &self,
        by: Inviter<'_>,
        input: &NewInvitation,
        base_url: &str,
    ) -> Result<CreatedInvitation, ApiError> {
        if self.store.get_tenant(by.tenant_id).await?.is_none() {
            return Err(ApiError::NotFound("Tenant"));
        }
        if let Err(wait) = self.invite_limiter.check(by.tenant_id.as_str()) {
            return Err(ApiError::RateLimited(wait.as_secs_f64().ceil().max(1.0) as u64));
        }
        let token = super::auth::random_token_with("hbi_");
        let now = ids::now();
        let invitation = Invitation {
            id: ids::new_id(),
            tenant_id: by.tenant_id.clone(),
            email: input.email.clone(),
            role: input.role,
            token_hash: self.session_token_hash(&token),
            invited_by: by.actor.clone(),
            created_at: now,
            expires_at: now + INVITATION_TTL,
            accepted_at: None,
            accepted_by: None,
            revoked_at: None,
        };
        self.store.insert_invitation(&invitation).await?;
        let details = json!({"email": invitation.email, "role": invitation.role});
        let entry = (by.tenant_id, by.actor.as_str(), by.source_ip.clone());
        self.audit_as(entry, "invitation.created", "invitation", invitation.id.as_str(), details).await?;
        self.announce_team_change(by.tenant_id, "invitation-created").await;
        let url = format!("{}/invite#{token}", base_url.trim_end_matches('/'));
        Ok(CreatedInvitation { invitation: info(&invitation), url })
    }

    /// The caller's tenant's pending invitations (admins).
    pub async fn pending_invitations(&self, ctx: &Ctx) -> Result<Vec<InvitationInfo>, ApiError> {
        ctx.require(Role::Admin)?;
        Ok(self.store.pending_invitations(&ctx.tenant_id, ids::now()).await?.iter().map(info).collect())
    }

    /// `DELETE /api/invitations/{id}`: the link stops working at once (owners;
    /// admins for the invitations they may make).
    pub async fn revoke_invitation(&self, ctx: &Ctx, id: &str) -> Result<(), ApiError> {
        ctx.require(Role::Admin)?;
        let id = InvitationId::parse(id).ok_or(ApiError::NotFound("Invitation"))?;
        let now = ids::now();
        let invitation = self
            .store
            .get_invitation(&ctx.tenant_id, &id)
            .await?
            .filter(|i| i.is_pending(now))
            .ok_or(ApiError::NotFound("Invitation"))?;
        Self::may_invite(ctx, invitation.role)?;
        if !self.store.revoke_invitation(&ctx.tenant_id, &id, now).await? {
            return Err(ApiError::NotFound("Invitation"));
        }
        let details = json!({"email": invitation.email, "role": invitation.role});
        self.audit(ctx, "invitation.revoked", "invitation", id.as_str(), details).await?;
        self.announce_team_change(&ctx.tenant_id, "invitation-revoked").await;
        Ok(())
    }

    /// The pending invitation of `token`: 404 for a token that never was one,
    /// 410 for one used, revoked or expired.
    async fn pending_by_token(&self, token: &str) -> Result<Invitation, ApiError> {
        let token = token.trim();
        if !token.starts_with("hbi_") || token.len() > 100 {
            return Err(ApiError::NotFound("Invitation"));
        }
        let invitation = self
            .store
            .invitation_by_token(&self.session_token_hash(token))
            .await?
            .ok_or(ApiError::NotFound("Invitation"))?;
        if !invitation.is_pending(ids::now()) {
            return Err(ApiError::Gone(LINK_USED.into()));
        }
        Ok(invitation)
    }

    /// `POST /api/invitations/preview` with `{token}`: what the link's
    /// opener is invited to, and as whom this browser is signed in.
    pub async fn preview_invitation(&self, req: &Presented, token: &str) -> Result<InvitationPreview, ApiError> {
        let invitation = self.pending_by_token(token).await?;
        let tenant = self.store.get_tenant(&invitation.tenant_id).await?.ok_or(ApiError::NotFound("Invitation"))?;
        let signed_in_as = self.session_user(req).await?.map(|u| u.email);
        Ok(InvitationPreview {
            tenant_id: tenant.id,
            tenant_name: tenant.name,
            email: invitation.email,
            role: invitation.role,
            expires_at: invitation.expires_at,
            signed_in_as,
        })
    }

    /// `POST /api/invitations/accept` with `{token, name?, password}`. A
    /// browser signed in as the invited email accepts as it is; otherwise a
    /// `name` creates the account (409 if the email has one), and without one
    /// `password` signs in to the existing account (401 as a failed login).
    pub async fn accept_invitation(&self, req: &Presented, input: &AcceptInvitation) -> Result<Accepted, ApiError> {
        // A token cannot be guessed (256 bits); the password check of a sign-in is limited as a login is.
        self.refuse_foreign_origin(req, "This request's origin may not accept invitations here")?;
        let invitation = self.pending_by_token(&input.token).await?;
        let proof = match (self.session_user(req).await?, &input.name) {
            (Some(user), _) if user.email == invitation.email => Proof::Session(user),
            (Some(user), _) => {
                return Err(ApiError::Forbidden(format!(
                    "This invitation is for another email than {}'s; sign out first",
                    user.name
                )))
            }
            (None, Some(name)) => Proof::NewAccount(name.clone()),
            (None, None) => Proof::Password,
        };
        let now = ids::now();
        let token_hash = invitation.token_hash.clone();
        let (user, signed_in) = match proof {
            Proof::Session(user) => {
                self.claim(&token_hash, &user.id, now).await?;
                (user, None)
            }
            Proof::NewAccount(name) => {
                // The user is made first (not stored), the link claimed for their id, then the user stored.
                let user = self.new_user(ids::new_id(), invitation.email.clone(), &name, &input.password).await?;
                self.claim(&token_hash, &user.id, now).await?;
                match self.store.insert_user(&user).await {
                    Ok(()) => {}
                    Err(e) => {
                        self.store.release_invitation(&token_hash, &user.id, now).await?;
                        return Err(match e {
                            StoreError::Conflict(_) => ApiError::Conflict(
                                "An account with this email exists already: sign in with its password to accept".into(),
                            ),
                            other => other.into(),
                        });
                    }
                }
                let signed_in = self.open_session(user.clone(), req.source_ip.clone(), req.user_agent.clone()).await?;
                (user, Some(signed_in))
            }
            Proof::Password => {
                let signed_in = self
                    .login(&invitation.email, &input.password, req.source_ip.clone(), req.user_agent.clone())
                    .await?;
                self.claim(&token_hash, &signed_in.user.id, now).await?;
                (signed_in.user.clone(), Some(signed_in))
            }
        };
        let membership = Membership {
            tenant_id: invitation.tenant_id.clone(),
            user_id: user.id.clone(),
            role: invitation.role,
            created_at: now,
        };
        let added = match self.store.add_membership(&membership).await {
            Ok(added) => added,
            Err(e) => {
                self.store.release_invitation(&token_hash, &user.id, now).await?;
                return Err(e.into());
            }
        };
        let actor = format!("user:{}", user.id);
        let details = json!({
            "email": user.email, "from": null, "to": if added { Some(invitation.role) } else { None },
            "invitation": invitation.id, "invitedBy": invitation.invited_by, "alreadyMember": !added,
        });
        let entry = (&invitation.tenant_id, actor.as_str(), req.source_ip.clone());
        self.audit_as(entry, "member.added", "user", user.id.as_str(), details).await?;
        if added {
            self.announce_team_change(&invitation.tenant_id, "member-added").await;
        }
        if let (Some(old), Some(_)) = (&req.session_token, &signed_in) {
            self.logout(old).await?;
        }
        Ok(Accepted { signed_in, tenant_id: invitation.tenant_id, already_member: !added })
    }

    /// Claims the link for `user_id`: 410 when another acceptance, a
    /// revocation or the expiry came first.
    async fn claim(&self, token_hash: &str, user_id: &UserId, now: app::models::Timestamp) -> Result<(), ApiError> {
        if self.store.claim_invitation(token_hash, user_id, now).await? {
            Ok(())
        } else {
            Err(ApiError::Gone(LINK_USED.into()))
        }
    }

    /// The user of the browser's session, if it has a live one.
    async fn session_user(&self, req: &Presented) -> Result<Option<User>, ApiError> {
        match &req.session_token {
            Some(token) => Ok(self.authenticate_session(token).await?.map(|(user, _)| user)),
            None => Ok(None),
        }
    }

    /// Tells the tenant's open pages that its team changed (Settings → Members refetches).
    pub(super) async fn announce_team_change(&self, tenant_id: &TenantId, reason: &str) {
        let event = app::models::DashboardRefreshEvent {
            tenant_id: tenant_id.clone(),
            reason: reason.to_owned(),
            entities: vec!["members".into()],
        };
        self.broadcaster.to_tenant(tenant_id, app::models::events::DASHBOARD_REFRESH, &event).await;
    }
}
