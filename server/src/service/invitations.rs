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
    models::{
        ApiKeyId, CreatedInvitation, InvitationId, InvitationInfo, InvitationPreview, Role, TenantId, Timestamp, UserId,
    },
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

/// How an invitee proved who they are.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Proof {
    /// The browser's live session, of the invited email.
    Session,
    /// A new account, with a name and password.
    NewAccount,
    /// The password of the existing account.
    Password,
}

/// Why a new account cannot be made for an invitation.
const ACCOUNT_EXISTS: &str = "An account with this email exists already: sign in with its password to accept";

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
        if let Err(wait) = self.invite_limiter.check(by.tenant_id.as_str()).await {
            return Err(ApiError::rate_limited(wait));
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
        if !self.inviter_may_still(&invitation).await? {
            return Err(ApiError::Gone(
                "Whoever made this invitation may no longer invite to this tenant; ask for a new one".into(),
            ));
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
    ///
    /// Who accepts is proven before anything is written (a sign-in's session
    /// is opened then too, so that a password changed meanwhile refuses it);
    /// then the link is claimed (one conditional write), the account stored and
    /// the membership added, the claim given back (and that session ended) if
    /// either fails; a new account's session comes last.
    pub async fn accept_invitation(&self, req: &Presented, input: &AcceptInvitation) -> Result<Accepted, ApiError> {
        // A token cannot be guessed (256 bits); the password check of a sign-in is limited as a login is.
        self.refuse_foreign_origin(req, "This request's origin may not accept invitations here")?;
        let invitation = self.pending_by_token(&input.token).await?;
        let (ip, agent) = (req.source_ip.clone(), req.user_agent.clone());
        let (user, proof, signed_in) = match (self.session_user(req).await?, &input.name) {
            (Some(user), _) if user.email == invitation.email => (user, Proof::Session, None),
            (Some(user), _) => {
                return Err(ApiError::Forbidden(format!(
                    "This invitation is for another email than {}'s; sign out first",
                    user.name
                )))
            }
            (None, Some(name)) => {
                // The rules and the limits before the look-up: only a request that
                // would make the account learns that the email has one, and such
                // requests are limited as logins are (the inviter holds the link too).
                super::auth::check_password_rules(&input.password)?;
                super::auth::check_name(name)?;
                self.spend_login_attempt(&invitation.email, ip.as_deref()).await?;
                if self.store.get_user_by_email(&invitation.email).await?.is_some() {
                    return Err(ApiError::Conflict(ACCOUNT_EXISTS.into()));
                }
                let user = self.new_user(ids::new_id(), invitation.email.clone(), name, &input.password).await?;
                (user, Proof::NewAccount, None)
            }
            (None, None) => {
                let user = self.check_login(&invitation.email, &input.password, ip.as_deref()).await?;
                let signed_in = self.open_session(user.clone(), ip.clone(), agent.clone()).await?;
                (user, Proof::Password, Some(signed_in))
            }
        };
        let now = ids::now();
        let added = match self.join_invited(&invitation, &user, proof == Proof::NewAccount, now).await {
            Ok(added) => added,
            Err(e) => {
                if let Some(session) = &signed_in {
                    if let Err(end) = self.logout(&session.token).await {
                        tracing::error!(error = %end, "a session opened to accept an invitation could not be ended");
                    }
                }
                return Err(e);
            }
        };
        // What follows is after the fact: the member is in, so a failed audit write is logged, not answered.
        let details = json!({
            "email": user.email, "from": null, "to": if added { Some(invitation.role) } else { None },
            "invitation": invitation.id, "invitedBy": invitation.invited_by, "alreadyMember": !added,
        });
        let actor = format!("user:{}", user.id);
        let entry = (&invitation.tenant_id, actor.as_str(), ip.clone());
        if let Err(e) = self.audit_as(entry, "member.added", "user", user.id.as_str(), details).await {
            tracing::error!(error = %e, "an accepted invitation's audit entry could not be written");
        }
        if added {
            self.announce_team_change(&invitation.tenant_id, "member-added").await;
        }
        let signed_in = match (proof, signed_in) {
            (Proof::NewAccount, _) => Some(self.open_session(user, ip, agent).await?),
            (_, signed_in) => signed_in,
        };
        if let (Some(_), Some(old)) = (&signed_in, &req.session_token) {
            self.logout(old).await?;
        }
        Ok(Accepted { signed_in, tenant_id: invitation.tenant_id, already_member: !added })
    }

    /// Claims the link for `user`, stores them if `new`, then adds the invited
    /// membership unless they have one: whether it was added. The claim is
    /// given back when storing or adding fails.
    async fn join_invited(
        &self,
        invitation: &Invitation,
        user: &User,
        new: bool,
        now: Timestamp,
    ) -> Result<bool, ApiError> {
        self.claim(&invitation.token_hash, &user.id, now).await?;
        let joined = async {
            if new {
                match self.store.insert_user(user).await {
                    Ok(()) => {}
                    Err(StoreError::Conflict(_)) => return Err(ApiError::Conflict(ACCOUNT_EXISTS.into())),
                    Err(e) => return Err(e.into()),
                }
            }
            let membership = Membership {
                tenant_id: invitation.tenant_id.clone(),
                user_id: user.id.clone(),
                role: invitation.role,
                created_at: now,
            };
            Ok(self.store.add_membership(&membership).await?)
        };
        let joined = joined.await;
        if joined.is_err() {
            if let Err(release) = self.store.release_invitation(&invitation.token_hash, &user.id, now).await {
                tracing::error!(error = %release, "an invitation's claim could not be given back");
            }
        }
        joined
    }

    /// Whether whoever made the invitation may still invite its role to its
    /// tenant: a user still a member with the role needed, an API key not
    /// revoked with it, the command line always (and the demo in development).
    async fn inviter_may_still(&self, i: &Invitation) -> Result<bool, ApiError> {
        let needed = if i.role == Role::Owner { Role::Owner } else { Role::Admin };
        Ok(match i.invited_by.split_once(':') {
            Some(("user", "demo")) => self.development(),
            Some(("user", id)) => match UserId::parse(id) {
                Some(user) => self
                    .store
                    .memberships_of_user(&user)
                    .await?
                    .iter()
                    .any(|m| m.tenant_id == i.tenant_id && m.role >= needed),
                None => false,
            },
            Some(("api-key", id)) => match ApiKeyId::parse(id) {
                Some(key) => self
                    .store
                    .list_api_keys(&i.tenant_id)
                    .await?
                    .iter()
                    .any(|k| k.id == key && k.revoked_at.is_none() && k.role >= needed),
                None => false,
            },
            _ => i.invited_by == "cli",
        })
    }

    /// Claims the link for `user_id`: 410 when another acceptance, a
    /// revocation or the expiry came first.
    async fn claim(&self, token_hash: &str, user_id: &UserId, now: Timestamp) -> Result<(), ApiError> {
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
