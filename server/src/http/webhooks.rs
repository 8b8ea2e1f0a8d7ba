//! Webhook endpoints: translate HTTP to the service layer and back.

use std::net::SocketAddr;

use axum::{
    body::Bytes,
    extract::{rejection::BytesRejection, ConnectInfo, State},
    http::{header, HeaderMap, StatusCode},
    response::IntoResponse,
    Json,
};
use serde_json::json;

use super::AppState;
use crate::{error::ApiError, signature::SIGNATURE_HEADER};

/// Checks the content type and the size limit, returning the raw body.
fn json_body(headers: &HeaderMap, body: Result<Bytes, BytesRejection>, limit: usize) -> Result<Bytes, ApiError> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let mime = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if mime != "application/json" && !(mime.starts_with("application/") && mime.ends_with("+json")) {
        return Err(ApiError::UnsupportedMediaType);
    }
    body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge(limit)
        } else {
            ApiError::InvalidJson(rejection.body_text())
        }
    })
}

fn signature(headers: &HeaderMap) -> Option<&str> {
    headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok())
}

/// `POST /api/webhooks/orders`.
pub async fn orders(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let services = &state.services;
    let body = json_body(&headers, body, services.config.max_body_bytes)?;
    let accepted = services.ingest_order(&body, signature(&headers), Some(peer.ip().to_string())).await?;
    let (status, message) = if accepted.duplicate {
        (StatusCode::OK, "Order already received")
    } else {
        (StatusCode::CREATED, "Order created successfully")
    };
    let mut body = json!({
        "success": true,
        "message": message,
        "orderId": accepted.order_id,
        "orderNumber": accepted.order_number,
    });
    if accepted.duplicate {
        body["duplicate"] = json!(true);
    }
    Ok((status, Json(body)))
}

/// `GET /api/webhooks/health`: the service and its store.
pub async fn health(State(state): State<AppState>) -> impl IntoResponse {
    let store = &state.services.store;
    let reachable = store.ping().await.is_ok();
    let status = if reachable { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let body = json!({
        "success": reachable,
        "status": if reachable { "ok" } else { "degraded" },
        "service": "hookbell-webhooks",
        "version": env!("CARGO_PKG_VERSION"),
        "timestamp": crate::ids::now_rfc3339(),
        "store": { "kind": store.kind(), "reachable": reachable },
    });
    (status, Json(body))
}
