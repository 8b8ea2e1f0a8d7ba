//! Sign-in over HTTP: `POST /api/auth/login`, `POST /api/auth/logout`,
//! `GET /api/auth/me`. The session token travels only in the HttpOnly cookie.

use app::input::Login;
use axum::{
    extract::State,
    http::{header, HeaderValue},
    response::{IntoResponse, Response},
    Json,
};
use serde_json::{json, Value};

use super::{api::Valid, AppState};
use crate::{
    error::ApiError,
    request::session_set_cookie,
    service::{Ctx, Presented, UserCtx},
};

fn set_cookie(value: &str) -> Result<HeaderValue, ApiError> {
    HeaderValue::from_str(value).map_err(|e| ApiError::Internal(format!("cookie header: {e}")))
}

/// `POST /api/auth/login` with `{"email", "password"}`.
pub async fn login(
    State(state): State<AppState>,
    presented: Presented,
    Valid(login): Valid<Login>,
) -> Result<Response, ApiError> {
    let services = &state.services;
    let signed_in = services.sign_in(&presented, &login.email, &login.password).await?;
    let cookie = session_set_cookie(services.config().mode, &presented, &signed_in.token);
    let tenants = services.tenants_of(&signed_in.memberships).await?;
    let body = json!({
        "success": true,
        "user": {"id": signed_in.user.id, "email": signed_in.user.email, "name": signed_in.user.name},
        "tenants": tenants,
        "expiresAt": signed_in.expires_at,
    });
    let mut resp = Json(body).into_response();
    resp.headers_mut().insert(header::SET_COOKIE, set_cookie(&cookie)?);
    Ok(resp)
}

/// `POST /api/auth/logout`: ends the session and clears the cookie.
pub async fn logout(State(state): State<AppState>, presented: Presented) -> Result<Response, ApiError> {
    state.services.sign_out(&presented).await?;
    let cookie = session_set_cookie(state.services.config().mode, &presented, "");
    let mut resp = Json(json!({"success": true, "message": "Signed out"})).into_response();
    resp.headers_mut().insert(header::SET_COOKIE, set_cookie(&cookie)?);
    Ok(resp)
}

/// `POST /api/auth/logout-all`: ends every session of the signed-in user, this one included.
pub async fn logout_all(
    State(state): State<AppState>,
    presented: Presented,
    me: UserCtx,
) -> Result<Response, ApiError> {
    let ended = state.services.sign_out_everywhere(&me).await?;
    let mut resp =
        Json(json!({"success": true, "message": "Signed out everywhere", "sessionsEnded": ended})).into_response();
    resp.headers_mut()
        .insert(header::SET_COOKIE, set_cookie(&session_set_cookie(state.services.config().mode, &presented, ""))?);
    Ok(resp)
}

/// `GET /api/auth/me`: the caller, the tenant this request acts on, and the caller's tenants.
pub async fn me(State(state): State<AppState>, ctx: Ctx) -> Result<Json<Value>, ApiError> {
    let caller = state.services.describe_caller(&ctx).await?;
    Ok(Json(app::models::success(caller)))
}
