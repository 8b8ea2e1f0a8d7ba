//! The axum router: webhook and API routes, the Leptos app, Socket.IO.

mod api;
mod auth;
mod backend;
pub mod bundle;
pub mod openapi;
pub mod ops;
mod providers;
pub mod security;
pub mod server_fns;
mod team;
mod webhooks;

use std::sync::Arc;

use app::{api::BackendHandle, shell, App};
use axum::{
    extract::{DefaultBodyLimit, FromRef},
    handler::Handler,
    routing::{any, get, post},
    Router,
};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::trace::TraceLayer;

use crate::{error::ApiError, service::Services};

/// State shared by every handler.
#[derive(Clone)]
pub struct AppState {
    pub services: Arc<Services>,
    pub leptos_options: LeptosOptions,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// An accepted webhook's answer: its status and body.
pub(crate) fn accepted_response(accepted: &crate::service::webhooks::Accepted) -> axum::response::Response {
    use axum::response::IntoResponse;
    let status = axum::http::StatusCode::from_u16(accepted.status_code()).unwrap_or(axum::http::StatusCode::OK);
    (status, axum::Json(accepted.body())).into_response()
}

async fn api_not_found() -> ApiError {
    ApiError::NotFound("API route")
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

/// Everything but Socket.IO's transport (whose long-polling requests wait for
/// events) gets `HOOKBELL_REQUEST_TIMEOUT_SECS` to be answered, its body read
/// included: 408 in the one error shape.
async fn request_timeout(
    axum::extract::State(limit): axum::extract::State<std::time::Duration>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if req.uri().path().starts_with(crate::realtime::SOCKET_PATH) {
        return next.run(req).await;
    }
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(resp) => resp,
        Err(_) => ApiError::RequestTimeout.into_response(),
    }
}

/// Refuses a request whose declared `Content-Length` is over the route
/// family's `limit` before a byte of its body is read (413 in the one shape);
/// a body without a declared length is bounded as it is read.
async fn declared_length_limit(
    axum::extract::State(limit): axum::extract::State<usize>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if server_fns::declared_length(&req).is_some_and(|n| n > limit as u64) {
        return ApiError::PayloadTooLarge(limit).into_response();
    }
    next.run(req).await
}

/// The request id header: taken from the client when it is a sensible one, else made here.
pub const REQUEST_ID: &str = "x-request-id";

/// Gives every request an id (`x-request-id`: the client's if it sent a
/// sensible one, 1 to 128 visible characters, else 16 random bytes in hex),
/// which every log line of the request carries and the answer returns.
async fn request_id(mut req: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    let given = req.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).map(str::trim);
    let id = match given {
        Some(id) if (1..=128).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_graphic()) => id.to_owned(),
        _ => hex::encode(rand::random::<[u8; 16]>()),
    };
    let value = axum::http::HeaderValue::from_str(&id).expect("visible ASCII is a header value");
    req.headers_mut().insert(REQUEST_ID, value.clone());
    let mut resp = next.run(req).await;
    resp.headers_mut().insert(REQUEST_ID, value);
    resp
}

/// The span of a request: its id, method and path, on every log line inside it.
fn request_span(req: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    let id = req.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("");
    tracing::info_span!("request", id = %id, method = %req.method(), path = %req.uri().path())
}

/// Builds the whole router.
pub fn router(state: AppState, socket_layer: crate::realtime::SocketLayer, in_flight: ops::InFlight) -> Router {
    let max_body = state.services.config().max_body_bytes;
    let max_api_body = state.services.config().max_api_body_bytes;
    // Called by senders' servers: no CORS.
    let webhook_routes = Router::new()
        .route("/api/webhooks/orders", post(webhooks::orders))
        .route("/api/webhooks/notifications", post(webhooks::notifications))
        .route("/api/webhooks/payments", post(webhooks::payments))
        .route("/api/webhooks/shopify/{tenant_id}", post(webhooks::shopify))
        .route("/api/webhooks/stripe/{tenant_id}", post(webhooks::stripe))
        .route_layer(axum::middleware::from_fn_with_state(max_body, declared_length_limit))
        .route_layer(axum::middleware::from_fn(ops::webhook_metrics))
        .route("/api/webhooks/health", get(webhooks::health))
        .route("/metrics", get(ops::metrics))
        .route("/api/openapi.json", get(openapi::document))
        .route("/api/docs", get(openapi::page))
        .route("/livez", get(webhooks::livez))
        .route("/readyz", get(webhooks::readyz))
        // The handlers read the body themselves and answer 413 in the JSON shape.
        .layer(DefaultBodyLimit::max(max_body))
        .method_not_allowed_fallback(method_not_allowed);
    // Called by dashboards, possibly from the configured front-end origins.
    let api_routes = Router::new()
        .route("/api/webhooks/settings", get(api::get_settings).patch(api::patch_settings))
        .route("/api/webhooks/settings/generate-secret", post(api::generate_secret))
        .route("/api/webhooks/settings/test", post(api::test_webhook))
        .route("/api/webhooks/providers", get(providers::list))
        .route("/api/webhooks/providers/{provider}", axum::routing::put(providers::put).delete(providers::delete))
        .route("/api/webhooks/events", get(api::list_events))
        .route("/api/webhooks/events/{id}/replay", post(api::replay_event))
        .route("/api/dashboard", get(api::dashboard))
        .route("/api/keys", get(api::list_keys).post(api::create_key))
        .route("/api/keys/{id}", axum::routing::delete(api::revoke_key))
        .route("/api/notifications", get(api::list_notifications).post(api::create_notification))
        .route("/api/notifications/mark-all-read", post(api::mark_all_read))
        .route("/api/notifications/{id}", axum::routing::patch(api::update_notification))
        .route("/api/members", get(team::list_members).post(team::invite))
        .route("/api/members/{user_id}", axum::routing::patch(team::change_member).delete(team::remove_member))
        .route("/api/invitations", get(team::list_invitations))
        .route("/api/invitations/preview", post(team::preview_invitation))
        .route("/api/invitations/accept", post(team::accept_invitation))
        .route("/api/invitations/{id}", axum::routing::delete(team::revoke_invitation))
        .route("/api/auth/login", post(auth::login))
        .route("/api/auth/logout", post(auth::logout))
        .route("/api/auth/logout-all", post(auth::logout_all))
        .route("/api/auth/me", get(auth::me))
        .route("/api/me/preferences", get(api::get_preferences).put(api::put_preferences))
        .route("/api/me/connections", get(api::my_connections))
        .route("/api/me/account", get(team::account))
        .route("/api/me/password", post(team::change_password))
        .route("/api/me/sessions/{id}", axum::routing::delete(team::end_session))
        .route("/api/me/tenants/{tenant_id}/leave", post(team::leave_tenant))
        .route_layer(axum::middleware::from_fn_with_state(max_api_body, declared_length_limit))
        .layer(DefaultBodyLimit::max(max_api_body))
        .method_not_allowed_fallback(method_not_allowed)
        .layer(security::api_cors(state.services.config()));

    let routes = generate_route_list(App);
    let backend = BackendHandle(state.services.clone());
    let leptos_options = state.leptos_options.clone();
    let mode = state.services.config().mode;
    let context = move || {
        provide_context(backend.clone());
        security::set_page_policy(mode);
    };
    let [nosniff, referrer, frames] = security::common_headers();
    let router = Router::new()
        .merge(webhook_routes)
        .merge(api_routes)
        .route("/api/{*rest}", any(api_not_found))
        .leptos_routes_with_context(&state, routes, context.clone(), move || shell(leptos_options.clone()))
        .fallback(leptos_axum::file_and_error_handler_with_context::<AppState, _>(context, shell).layer(
            axum::middleware::from_fn_with_state(bundle::pkg_prefix(&state.leptos_options), bundle::with_cache_control),
        ))
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(server_fns::Guard::new(max_api_body), server_fns::guard));
    let timeout = state.services.config().request_timeout;
    socket_layer
        .apply(router)
        .layer(axum::middleware::from_fn_with_state(timeout, request_timeout))
        .layer(axum::middleware::from_fn_with_state(in_flight, ops::in_flight))
        .layer(nosniff)
        .layer(referrer)
        .layer(frames)
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .layer(axum::middleware::from_fn(request_id))
        .with_state(state)
}
