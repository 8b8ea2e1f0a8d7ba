//! Webhook endpoints: translate HTTP to the service layer and back.

use std::net::SocketAddr;

use axum::{
    body::Bytes,
    extract::{rejection::BytesRejection, ConnectInfo, Path, State},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde_json::json;

use super::AppState;
use crate::{
    error::ApiError,
    providers::shopify,
    service::webhooks::{providers::ProviderDelivery, Endpoint},
    signature::{
        SignatureHeaders, SIGNATURE_HEADER, WEBHOOK_ID_HEADER, WEBHOOK_SIGNATURE_HEADER, WEBHOOK_TIMESTAMP_HEADER,
    },
};

/// The raw body, and why it is refused if it is: not JSON (415) or too large (413).
pub(super) fn json_body(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    limit: usize,
) -> (Bytes, Option<ApiError>) {
    let body = match body {
        Ok(bytes) => bytes,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return (Bytes::new(), Some(ApiError::PayloadTooLarge(limit)))
        }
        Err(rejection) => return (Bytes::new(), Some(ApiError::InvalidJson(rejection.body_text()))),
    };
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let mime = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if mime != "application/json" && !(mime.starts_with("application/") && mime.ends_with("+json")) {
        return (body, Some(ApiError::UnsupportedMediaType));
    }
    (body, None)
}

/// The signature headers of either scheme.
fn signature(headers: &HeaderMap) -> SignatureHeaders {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    SignatureHeaders {
        seed: get(SIGNATURE_HEADER),
        webhook_id: get(WEBHOOK_ID_HEADER),
        timestamp: get(WEBHOOK_TIMESTAMP_HEADER),
        signature: get(WEBHOOK_SIGNATURE_HEADER),
    }
}

/// Runs the webhook pipeline for `endpoint` and answers in the seed's shape.
async fn ingest(
    state: AppState,
    endpoint: Endpoint,
    peer: SocketAddr,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let services = &state.services;
    let (body, refused) = json_body(&headers, body, services.config().max_body_bytes);
    let source_ip = Some(peer.ip().to_string());
    let accepted = services.ingest(endpoint, body, refused, signature(&headers), source_ip).await?;
    Ok(super::accepted_response(&accepted))
}

/// `POST /api/webhooks/orders`.
pub async fn orders(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    ingest(state, Endpoint::Orders, peer, headers, body).await
}

/// `POST /api/webhooks/notifications`.
pub async fn notifications(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    ingest(state, Endpoint::Notifications, peer, headers, body).await
}

/// `POST /api/webhooks/payments`.
pub async fn payments(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    ingest(state, Endpoint::Payments, peer, headers, body).await
}

/// Runs a provider's delivery through the pipeline.
async fn ingest_provider(
    state: AppState,
    provider: app::models::Provider,
    tenant_id: String,
    peer: SocketAddr,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let services = &state.services;
    let (body, refused) = json_body(&headers, body, services.config().max_body_bytes);
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let signature_header = match provider {
        app::models::Provider::Shopify => shopify::HMAC_HEADER,
        app::models::Provider::Stripe => crate::providers::stripe::SIGNATURE_HEADER,
    };
    let delivery = ProviderDelivery {
        provider,
        tenant_id,
        body,
        refused,
        signature: get(signature_header),
        topic: get(shopify::TOPIC_HEADER),
        shop_domain: get(shopify::SHOP_DOMAIN_HEADER),
        webhook_id: get(shopify::WEBHOOK_ID_HEADER),
        source_ip: Some(peer.ip().to_string()),
    };
    let accepted = services.ingest_provider(delivery).await?;
    Ok(super::accepted_response(&accepted))
}

/// `POST /api/webhooks/shopify/{tenantId}`: Shopify's own webhooks.
pub async fn shopify(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(tenant_id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    ingest_provider(state, app::models::Provider::Shopify, tenant_id, peer, headers, body).await
}

/// `POST /api/webhooks/stripe/{tenantId}`: Stripe's own webhooks.
pub async fn stripe(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(tenant_id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    ingest_provider(state, app::models::Provider::Stripe, tenant_id, peer, headers, body).await
}

/// `GET /livez`: the process answers (for a liveness probe: restart it when not).
pub async fn livez() -> impl IntoResponse {
    Json(json!({"status": "ok"}))
}

/// `GET /readyz`: whether this process should get traffic: its store answers
/// and it is not shutting down (503 otherwise). A configured Redis that does
/// not answer makes it `degraded`, still 200: the node takes webhooks and
/// serves its own sockets, and every node would be taken out at once otherwise.
pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let r = state.services.readiness().await;
    let status = if r.ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let redis = match r.redis {
        None => json!({"configured": false}),
        Some(reachable) => json!({"configured": true, "reachable": reachable}),
    };
    let body = json!({
        "status": match (r.ready, r.draining) {
            (_, true) => "draining",
            (true, _) if r.redis == Some(false) => "degraded",
            (true, _) => "ready",
            (false, _) => "unavailable",
        },
        "store": {"kind": r.store_kind, "reachable": r.store},
        "redis": redis,
        "draining": r.draining,
    });
    (status, Json(body))
}

/// `GET /api/webhooks/health`: the service and its store.
pub async fn health(State(state): State<AppState>) -> impl IntoResponse {
    let (kind, reachable) = state.services.store_health().await;
    let status = if reachable { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let body = json!({
        "success": reachable,
        "status": if reachable { "ok" } else { "degraded" },
        "service": "hookbell-webhooks",
        "version": env!("CARGO_PKG_VERSION"),
        "timestamp": crate::ids::now(),
        "store": { "kind": kind, "reachable": reachable },
    });
    (status, Json(body))
}
