//! A team over HTTP: members and invitations (`/api/members`,
//! `/api/invitations`), and each user's own account (`/api/me/…`). Each
//! handler resolves the caller and calls the service layer.

use app::input::{AcceptInvitation, InvitationToken, NewInvitation, PasswordChange, RoleChange};
use axum::{
    extract::{Path, State},
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde_json::{json, Value};

use super::{
    api::{Checked, Valid},
    AppState,
};
use crate::{
    config::Mode,
    error::ApiError,
    request,
    service::{invitations::Accepted, Ctx, PasswordChanged, Presented, UserCtx},
};

/// The `Set-Cookie` values of an accepted invitation: the new session (if
/// one was made) and the tenant joined, as the one this browser acts on.
pub(super) fn accepted_cookies(mode: Mode, presented: &Presented, accepted: &Accepted) -> Vec<String> {
    let mut cookies: Vec<String> =
        accepted.signed_in.iter().map(|s| request::session_set_cookie(mode, presented, &s.token)).collect();
    cookies.push(request::tenant_set_cookie(mode, presented, &accepted.tenant_id));
    cookies
}

/// `GET /api/members` (admins): the members and the pending invitations.
pub async fn list_members(State(state): State<AppState>, ctx: Ctx) -> Result<Json<Value>, ApiError> {
    let view = state.services.members_view(&ctx).await?;
    Ok(Json(json!({"success": true, "members": view.members, "invitations": view.invitations})))
}

/// `POST /api/members` with `{email, role}`: 201 with the invitation and its
/// link, whether or not the email has an account.
pub async fn invite(
    State(state): State<AppState>,
    ctx: Ctx,
    presented: Presented,
    Checked(input): Checked<NewInvitation>,
) -> Result<Response, ApiError> {
    let base = state.services.public_base(Some(&presented));
    let created = state.services.invite(&ctx, input, &base).await?;
    let body = json!({
        "success": true,
        "message": "Invitation created: pass the link on; it works once, for 7 days",
        "invitation": created.invitation,
        "url": created.url,
    });
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// `PATCH /api/members/{userId}` with `{"role"}` (owners).
pub async fn change_member(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(user_id): Path<String>,
    Checked(change): Checked<RoleChange>,
) -> Result<Json<Value>, ApiError> {
    state.services.change_member_role(&ctx, &user_id, change).await?;
    Ok(Json(json!({"success": true, "message": "Role changed"})))
}

/// `DELETE /api/members/{userId}` (owners).
pub async fn remove_member(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(user_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    state.services.remove_member(&ctx, &user_id).await?;
    Ok(Json(json!({"success": true, "message": "Member removed"})))
}

/// `GET /api/invitations` (admins): the pending invitations.
pub async fn list_invitations(State(state): State<AppState>, ctx: Ctx) -> Result<Json<Value>, ApiError> {
    let invitations = state.services.pending_invitations(&ctx).await?;
    Ok(Json(json!({"success": true, "invitations": invitations})))
}

/// `DELETE /api/invitations/{id}`.
pub async fn revoke_invitation(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    state.services.revoke_invitation(&ctx, &id).await?;
    Ok(Json(json!({"success": true, "message": "Invitation revoked"})))
}

/// `POST /api/invitations/preview` with `{token}` (anyone holding the link).
pub async fn preview_invitation(
    State(state): State<AppState>,
    presented: Presented,
    Valid(input): Valid<InvitationToken>,
) -> Result<Json<Value>, ApiError> {
    let preview = state.services.preview_invitation(&presented, &input.token).await?;
    Ok(Json(json!({"success": true, "invitation": preview})))
}

/// `POST /api/invitations/accept` with `{token, name?, password}`: sets the
/// session cookie (unless the browser was signed in already) and the tenant's.
pub async fn accept_invitation(
    State(state): State<AppState>,
    presented: Presented,
    Valid(input): Valid<AcceptInvitation>,
) -> Result<Response, ApiError> {
    let accepted = state.services.accept_invitation(&presented, &input).await?;
    let body = json!({
        "success": true,
        "tenantId": accepted.tenant_id,
        "alreadyMember": accepted.already_member,
        "user": accepted.signed_in.as_ref().map(|s| json!({"id": s.user.id, "email": s.user.email, "name": s.user.name})),
    });
    let mut resp = Json(body).into_response();
    for cookie in accepted_cookies(state.services.config().mode, &presented, &accepted) {
        let value = HeaderValue::from_str(&cookie).map_err(|e| ApiError::Internal(format!("cookie header: {e}")))?;
        resp.headers_mut().append(header::SET_COOKIE, value);
    }
    Ok(resp)
}

/// `GET /api/me/account`: the signed-in user, their sessions and tenants.
pub async fn account(
    State(state): State<AppState>,
    me: UserCtx,
    presented: Presented,
) -> Result<Json<Value>, ApiError> {
    let account = state.services.account(&me, &presented).await?;
    Ok(Json(app::models::success(account)))
}

/// `POST /api/me/password` with `{currentPassword, newPassword}`: the
/// browser's new session cookie comes with the answer.
pub async fn change_password(
    State(state): State<AppState>,
    me: UserCtx,
    presented: Presented,
    Checked(change): Checked<PasswordChange>,
) -> Result<Response, ApiError> {
    let changed = state.services.change_password(&me, &presented, change).await?;
    let body = json!({"success": true, "message": "Password changed", "sessionsEnded": changed.other_sessions_ended});
    let mut resp = Json(body).into_response();
    if let Some(cookie) = password_changed_cookie(state.services.config().mode, &presented, &changed) {
        let value = HeaderValue::from_str(&cookie).map_err(|e| ApiError::Internal(format!("cookie header: {e}")))?;
        resp.headers_mut().append(header::SET_COOKIE, value);
    }
    Ok(resp)
}

/// The `Set-Cookie` of a password change: the browser's new session token.
pub(super) fn password_changed_cookie(mode: Mode, presented: &Presented, changed: &PasswordChanged) -> Option<String> {
    changed.token.as_deref().map(|token| request::session_set_cookie(mode, presented, token))
}

/// `DELETE /api/me/sessions/{id}`.
pub async fn end_session(
    State(state): State<AppState>,
    me: UserCtx,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    state.services.end_session(&me, &id).await?;
    Ok(Json(json!({"success": true, "message": "Signed out"})))
}

/// `POST /api/me/tenants/{tenantId}/leave`.
pub async fn leave_tenant(
    State(state): State<AppState>,
    me: UserCtx,
    Path(tenant_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    state.services.leave_tenant(&me, &tenant_id).await?;
    Ok(Json(json!({"success": true, "message": "Left the tenant"})))
}
