//! A tenant's members: admins list them; owners add users, change roles and
//! remove members. A tenant always keeps at least one owner.

use app::{
    input::{NewMember, Parsed, RoleChange},
    models::{Role, Timestamp, UserId},
};
use serde::Serialize;
use serde_json::json;

use super::{push::Sockets, Ctx, Services};
use crate::{error::ApiError, store::MembershipChange};

/// A member as the API shows it (never a password hash).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberView {
    pub user_id: UserId,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub created_at: Timestamp,
}

impl Services {
    /// `GET /api/members` (admins).
    pub async fn list_members(&self, ctx: &Ctx) -> Result<Vec<MemberView>, ApiError> {
        ctx.require(Role::Admin)?;
        let mut out = Vec::new();
        for m in self.store.memberships_of_tenant(&ctx.tenant_id).await? {
            if let Some(user) = self.store.get_user(&m.user_id).await? {
                out.push(MemberView {
                    user_id: user.id,
                    email: user.email,
                    name: user.name,
                    role: m.role,
                    created_at: m.created_at,
                });
            }
        }
        Ok(out)
    }

    /// `POST /api/members` with `{email, name, password, role}` (owners): a
    /// new user needs a name and password; an existing user keeps theirs.
    pub async fn add_member(&self, ctx: &Ctx, input: Parsed<NewMember>) -> Result<(MemberView, bool), ApiError> {
        ctx.require(Role::Owner)?;
        let NewMember { email, name, password, role } = &input.map_err(ApiError::Validation)?;
        let role = *role;
        // A member's role changes only through change_member_role, which keeps an
        // owner; adding a member again with the role they have changes nothing.
        if let Some(existing) = self.store.get_user_by_email(&email.trim().to_lowercase()).await? {
            let memberships = self.store.memberships_of_user(&existing.id).await?;
            if memberships.iter().any(|m| m.tenant_id == ctx.tenant_id && m.role != role) {
                return Err(ApiError::Conflict(format!(
                    "{} is a member already; change their role with PATCH /api/members/{}",
                    existing.email, existing.id
                )));
            }
        }
        let added = self.add_user_to_tenant(&ctx.tenant_id, email, name, password, role).await?;
        let details = json!({"email": added.user.email, "role": role, "newUser": added.created});
        self.audit(ctx, "member.added", "user", &added.user.id, details).await?;
        let view = MemberView {
            user_id: added.user.id,
            email: added.user.email,
            name: added.user.name,
            role,
            created_at: added.membership.created_at,
        };
        Ok((view, added.created))
    }

    /// `PATCH /api/members/{userId}` with `{role}` (owners).
    pub async fn change_member_role(
        &self,
        ctx: &Ctx,
        user_id: &str,
        change: Parsed<RoleChange>,
    ) -> Result<(), ApiError> {
        ctx.require(Role::Owner)?;
        let role = change.map_err(ApiError::Validation)?.role;
        let from = self.change_membership(ctx, user_id, Some(role)).await?;
        let details = json!({"from": from, "to": role});
        self.audit(ctx, "member.role_changed", "user", user_id, details).await
    }

    /// `DELETE /api/members/{userId}` (owners). The user's sessions stay, but
    /// they no longer reach this tenant (membership is checked on every
    /// request), and their open sockets in it are disconnected on every node.
    pub async fn remove_member(&self, ctx: &Ctx, user_id: &str) -> Result<(), ApiError> {
        ctx.require(Role::Owner)?;
        let Some(user_id) = UserId::parse(user_id) else {
            return Err(ApiError::NotFound("Member"));
        };
        let from = self.change_membership(ctx, &user_id, None).await?;
        // All the user's sockets go (a socket joining this tenant right now cannot
        // slip in after the disconnect: it joined the user's room at its handshake);
        // the browser reconnects and joins only what the user still belongs to.
        self.broadcaster.disconnect(Sockets::User(&user_id)).await;
        self.audit(ctx, "member.removed", "user", &user_id, json!({"role": from})).await
    }

    /// Changes or removes a membership of the caller's tenant: 404 for no such
    /// member, 409 when the tenant would be left without an owner. The role it had.
    async fn change_membership(&self, ctx: &Ctx, user_id: &str, to: Option<Role>) -> Result<Role, ApiError> {
        let Some(user_id) = UserId::parse(user_id) else {
            return Err(ApiError::NotFound("Member"));
        };
        match self.store.change_membership(&ctx.tenant_id, &user_id, to).await? {
            MembershipChange::Changed { from } => Ok(from),
            MembershipChange::LastOwner => Err(ApiError::Conflict("A tenant must keep at least one owner".into())),
            MembershipChange::NotFound => Err(ApiError::NotFound("Member")),
            MembershipChange::Concurrent => {
                Err(ApiError::Conflict("The membership changed at the same time; try again".into()))
            }
        }
    }
}
