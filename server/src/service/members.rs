//! A tenant's members: admins list them (with the invitations pending);
//! owners change roles and remove members. A tenant always keeps at least
//! one owner. Members join through invitations (see `invitations`).

use app::{
    input::{Parsed, RoleChange},
    models::{MemberInfo, MembersView, Role, UserId},
};
use serde_json::json;

use super::{push::Sockets, Ctx, Services};
use crate::{error::ApiError, store::MembershipChange};

impl Services {
    /// `GET /api/members` (admins), oldest member first.
    pub async fn list_members(&self, ctx: &Ctx) -> Result<Vec<MemberInfo>, ApiError> {
        ctx.require(Role::Admin)?;
        let mut out = Vec::new();
        for m in self.store.memberships_of_tenant(&ctx.tenant_id).await? {
            if let Some(user) = self.store.get_user(&m.user_id).await? {
                out.push(MemberInfo {
                    user_id: user.id,
                    email: user.email,
                    name: user.name,
                    role: m.role,
                    created_at: m.created_at,
                    last_sign_in_at: user.last_sign_in_at,
                });
            }
        }
        Ok(out)
    }

    /// Settings → Members (admins): the team, the pending invitations and the caller's role.
    pub async fn members_view(&self, ctx: &Ctx) -> Result<MembersView, ApiError> {
        let members = self.list_members(ctx).await?;
        let invitations = self.pending_invitations(ctx).await?;
        Ok(MembersView { members, invitations, role: ctx.role, me: ctx.viewer() })
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
        let details = json!({"email": self.email_of(user_id).await?, "from": from, "to": role});
        self.audit(ctx, "member.role_changed", "user", user_id, details).await?;
        self.announce_team_change(&ctx.tenant_id, "member-role-changed").await;
        Ok(())
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
        let details = json!({"email": self.email_of(&user_id).await?, "from": from, "to": null});
        self.audit(ctx, "member.removed", "user", &user_id, details).await?;
        self.announce_team_change(&ctx.tenant_id, "member-removed").await;
        Ok(())
    }

    /// The email of a user, for audit entries (empty if the user is gone).
    pub(super) async fn email_of(&self, user_id: &str) -> Result<String, ApiError> {
        let Some(id) = UserId::parse(user_id) else {
            return Ok(String::new());
        };
        Ok(self.store.get_user(&id).await?.map(|u| u.email).unwrap_or_default())
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
