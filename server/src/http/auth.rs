//! Sign-in over HTTP: `POST /api/auth/login`, `POST /api/auth/logout`,
//! `GET /api/auth/me`. The session token travels only in the HttpOnly cookie.

use std::net::SocketAddr;

use axum::{
    body::Bytes,
    extract::{rejection::BytesRejection, ConnectInfo, State},
    http::{header, HeaderMap, HeaderValue},
    response::{IntoResponse, Response},
    Json,
};
use serde_json::{json, Value};

use super::{api::object_body, AppState};
use crate::{
    config::Mode,
    error::ApiError,
    service::{
        auth::{SESSION_COOKIE, SESSION_MAX},
        ctx::session_cookie,
        Ctx,
    },
};

/// The `Set-Cookie` value for `token` (an empty token clears the cookie).
fn cookie(state: &AppState, token: &str) -> HeaderValue {
    let max_age = if token.is_empty() { 0 } else { SESSION_MAX.whole_seconds() };
    let secure = if state.services.config.mode == Mode::Production { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"
    ))
    .expect("a session token is a valid header value")
}

/// A state change from a browser must come from an allowed origin, when it says where it comes from.
fn check_origin(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    if headers.contains_key(header::ORIGIN) && !state.services.origin_allowed(headers) {
        return Err(ApiError::Forbidden("This request's origin may not sign in here".into()));
    }
    Ok(())
}

/// `POST /api/auth/login` with `{"email", "password"}`.
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    check_origin(&state, &headers)?;
    let body = object_body(&state, &headers, body)?;
    let field = |name: &str| body.get(name).and_then(Value::as_str).unwrap_or("").to_owned();
    let user_agent = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let services = &state.services;
    let signed_in =
        services.login(&field("email"), &field("password"), Some(peer.ip().to_string()), user_agent).await?;
    // A session the browser already had ends here: each login gets a new token.
    if let Some(old) = session_cookie(&headers) {
        services.logout(&old).await?;
    }
    let tenants = services.tenants_of(&signed_in.memberships).await?;
    let body = json!({
        "success": true,
        "user": {"id": signed_in.user.id, "email": signed_in.user.email, "name": signed_in.user.name},
        "tenants": tenants,
        "expiresAt": signed_in.expires_at,
    });
    let mut resp = Json(body).into_response();
    resp.headers_mut().insert(header::SET_COOKIE, cookie(&state, &signed_in.token));
    Ok(resp)
}

/// `POST /api/auth/logout`: ends the session and clears the cookie.
pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    check_origin(&state, &headers)?;
    if let Some(token) = session_cookie(&headers) {
        state.services.logout(&token).await?;
    }
    let mut resp = Json(json!({"success": true, "message": "Signed out"})).into_response();
    resp.headers_mut().insert(header::SET_COOKIE, cookie(&state, ""));
    Ok(resp)
}

/// `GET /api/auth/me`: the caller, the tenant this request acts on, and the caller's tenants.
pub async fn me(State(state): State<AppState>, ctx: Ctx) -> Result<Json<Value>, ApiError> {
    Ok(Json(state.services.describe_caller(&ctx).await?))
}
