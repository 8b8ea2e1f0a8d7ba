//! The HTTP edge of server functions (`/api/<name>`, registered by Leptos):
//! what the framework would otherwise answer with a bare 500.
//!
//! - The body is bounded (`HOOKBELL_MAX_API_BODY_BYTES`): a declared length
//!   over the limit is refused before anything is read, a streamed body as
//!   soon as it passes the limit (413, the one error shape).
//! - Arguments that are missing or do not decode are the caller's fault:
//!   [`app::api::FnError`] names them `invalid_arguments`, and the framework's
//!   500 becomes a 400 here.

use std::{collections::HashSet, sync::Arc};

use axum::{
    body::{Body, Bytes},
    extract::{Request, State},
    http::{header, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use futures_util::StreamExt;

use crate::error::{ApiError, ApiFailure};

/// The server functions' paths and their body limit.
#[derive(Clone)]
pub struct Guard {
    paths: Arc<HashSet<&'static str>>,
    limit: usize,
}

impl Guard {
    /// Every registered server function, with bodies up to `limit` bytes.
    pub fn new(limit: usize) -> Self {
        let paths = leptos::server_fn::axum::server_fn_paths().map(|(path, _)| path).collect();
        Self { paths: Arc::new(paths), limit }
    }
}

/// The framework marks its error answers with this header.
const SERVER_FN_ERROR_HEADER: &str = "serverfnerror";

/// Reads `body` up to `limit` bytes: `Err` is the answer (413 past the limit).
pub async fn read_bounded(body: Body, limit: usize) -> Result<Bytes, ApiError> {
    let mut stream = body.into_data_stream();
    let mut buf = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| ApiError::InvalidJson(format!("the body could not be read: {e}")))?;
        if buf.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge(limit));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.into())
}

/// The declared `Content-Length`, if any: digits only (hyper already refuses
/// anything else over HTTP/1; a `+` that `u64::from_str` would take is not one).
pub fn declared_length(req: &Request) -> Option<u64> {
    let value = req.headers().get(header::CONTENT_LENGTH)?.as_bytes();
    if value.is_empty() || !value.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(value).ok()?.parse().ok()
}

/// The middleware: bounds server functions' bodies and gives the framework's
/// own refusals their 4xx status.
pub async fn guard(State(guard): State<Guard>, req: Request, next: Next) -> Response {
    if !guard.paths.contains(req.uri().path()) {
        return next.run(req).await;
    }
    if declared_length(&req).is_some_and(|n| n > guard.limit as u64) {
        return ApiError::PayloadTooLarge(guard.limit).into_response();
    }
    let (parts, body) = req.into_parts();
    let body = match read_bounded(body, guard.limit).await {
        Ok(bytes) => bytes,
        Err(refused) => return refused.into_response(),
    };
    let resp = next.run(Request::from_parts(parts, Body::from(body))).await;
    if resp.status() != StatusCode::INTERNAL_SERVER_ERROR || !resp.headers().contains_key(SERVER_FN_ERROR_HEADER) {
        return resp;
    }
    // An error answer of the framework: small, the one error shape in JSON.
    let (mut parts, body) = resp.into_parts();
    let bytes = read_bounded(body, 64 * 1024).await.unwrap_or_default();
    if serde_json::from_slice::<ApiFailure>(&bytes).is_ok_and(|f| f.code == ApiFailure::INVALID_ARGUMENTS) {
        parts.status = StatusCode::BAD_REQUEST;
    }
    Response::from_parts(parts, Body::from(bytes))
}
