//! The one place where errors become HTTP responses.
//!
//! Every handler returns [`ApiError`]; its `IntoResponse` writes the single
//! error shape `{"success":false,"error":"…","code":"…","details":[…]}`.
//! Internal causes are logged here and never sent to the client.

use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use thiserror::Error;

use crate::store::StoreError;

pub use app::models::{ApiFailure, FieldError};

/// Everything a request can fail with.
#[derive(Debug, Error)]
pub enum ApiError {
    #[error("Request validation failed")]
    Validation(Vec<FieldError>),
    #[error("Request body is not valid JSON: {0}")]
    InvalidJson(String),
    #[error("Content-Type must be application/json")]
    UnsupportedMediaType,
    #[error("Request body exceeds the limit of {0} bytes")]
    PayloadTooLarge(usize),
    /// Missing or wrong signature, or unknown tenant: deliberately indistinguishable.
    #[error("Webhook signature missing or invalid")]
    InvalidSignature,
    /// A Standard Webhooks timestamp outside the tolerance: a replay, or a sender's clock far off.
    #[error("Webhook timestamp is missing or outside the 5 minute tolerance")]
    StaleTimestamp,
    /// A verified webhook signed the seed's way, for a tenant that accepts only Standard Webhooks.
    #[error(
        "This tenant accepts only Standard Webhooks signatures (webhook-id, webhook-timestamp, \
             webhook-signature): acceptSeedSignatures is off"
    )]
    SchemeRefused,
    /// Another change of the same record came between this one's read and its
    /// write: a conflict the same request resolves when retried (`409`, `Retry-After: 1`).
    #[error("{0}")]
    Raced(&'static str),
    /// Another request with the same `webhook-id` is being processed; retry shortly.
    #[error("A delivery with this webhook-id is being processed; retry shortly")]
    InProgress,
    #[error("{0}")]
    Unauthorized(&'static str),
    #[error("{0}")]
    Forbidden(String),
    /// A switch in the tenant's webhook settings is off (says which).
    #[error("{0}")]
    Disabled(String),
    /// The request contradicts the current state (e.g. a payment transition not allowed).
    #[error("{0}")]
    Conflict(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The thing existed but can no longer be used (an invitation used, revoked or expired).
    #[error("{0}")]
    Gone(String),
    #[error("Method not allowed")]
    MethodNotAllowed,
    /// The request was not answered in `HOOKBELL_REQUEST_TIMEOUT_SECS` (a slow body, a stuck store).
    #[error("The request took too long")]
    RequestTimeout,
    /// Too many webhooks for the tenant; retry after the given seconds.
    #[error("Too many requests for this tenant; retry after {0} s")]
    RateLimited(u64),
    /// The server is at its limit for this kind of work (e.g. password checks); retry after the given seconds.
    #[error("The server is busy; retry after {0} s")]
    Busy(u64),
    #[error("The data store is unavailable; retry shortly")]
    StoreUnavailable(String),
    #[error("Internal server error")]
    Internal(String),
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(m) => ApiError::StoreUnavailable(m),
            // Another delivery of the same `webhook-id` holds it (409 in_progress).
            StoreError::Taken => ApiError::InProgress,
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Validation(_) | ApiError::InvalidJson(_) => StatusCode::BAD_REQUEST,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::InvalidSignature
            | ApiError::StaleTimestamp
            | ApiError::SchemeRefused
            | ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) | ApiError::Disabled(_) => StatusCode::FORBIDDEN,
            ApiError::Conflict(_) | ApiError::Raced(_) | ApiError::InProgress => StatusCode::CONFLICT,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Gone(_) => StatusCode::GONE,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            ApiError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::StoreUnavailable(_) | ApiError::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Validation(_) => "validation_failed",
            ApiError::InvalidJson(_) => "invalid_json",
            ApiError::UnsupportedMediaType => "unsupported_media_type",
            ApiError::PayloadTooLarge(_) => "payload_too_large",
            ApiError::InvalidSignature => "invalid_signature",
            ApiError::StaleTimestamp => "stale_timestamp",
            ApiError::SchemeRefused => "scheme_refused",
            ApiError::InProgress => "in_progress",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::Disabled(_) => "disabled",
            ApiError::Conflict(_) | ApiError::Raced(_) => "conflict",
            ApiError::NotFound(_) => "not_found",
            ApiError::Gone(_) => "gone",
            ApiError::MethodNotAllowed => "method_not_allowed",
            ApiError::RequestTimeout => "request_timeout",
            ApiError::RateLimited(_) => "rate_limited",
            ApiError::Busy(_) => "busy",
            ApiError::StoreUnavailable(_) => "store_unavailable",
            ApiError::Internal(_) => "internal",
        }
    }

    /// The fields at fault, for validation errors.
    pub fn details(&self) -> &[FieldError] {
        match self {
            ApiError::Validation(d) => d,
            _ => &[],
        }
    }

    /// The message a client may see.
    pub fn public_message(&self) -> String {
        self.to_string()
    }

    /// 429 for a limiter's `wait`, in whole seconds (at least one).
    pub fn rate_limited(wait: std::time::Duration) -> Self {
        ApiError::RateLimited(wait.as_secs_f64().ceil().max(1.0) as u64)
    }

    /// How long the caller should wait before trying again (`Retry-After`).
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            ApiError::StoreUnavailable(_) => Some(5),
            ApiError::InProgress | ApiError::Raced(_) => Some(1),
            ApiError::RateLimited(secs) | ApiError::Busy(secs) => Some(*secs),
            _ => None,
        }
    }

    /// The error in the one shape every route answers with (its cause logged
    /// here when it is internal).
    pub fn failure(&self) -> ApiFailure {
        match self {
            ApiError::Internal(cause) => tracing::error!(%cause, "internal error"),
            ApiError::StoreUnavailable(cause) => tracing::warn!(%cause, "store unavailable"),
            _ => {}
        }
        ApiFailure {
            details: self.details().to_vec(),
            retry_after: self.retry_after(),
            ..ApiFailure::new(self.status().as_u16(), self.code(), self.public_message())
        }
    }

    /// The error as a server function reports it: the one shape, its message
    /// naming each bad field too (pages show the message alone).
    pub fn server_fn_failure(&self) -> ApiFailure {
        let mut failure = self.failure();
        if !failure.details.is_empty() {
            let named: Vec<String> = failure.details.iter().map(|f| format!("{} {}", f.field, f.message)).collect();
            failure.error = format!("{}: {}", failure.error, named.join("; "));
        }
        failure
    }

    /// The error as a refused socket event's ack: the one shape, with `ok: false`
    /// as the seed's clients read it.
    pub fn ack(&self) -> serde_json::Value {
        let failure = self.failure();
        serde_json::json!({"ok": false, "success": false, "error": failure.error, "code": failure.code, "details": failure.details})
    }

    /// The error for an operator (the command-line tools): the message with
    /// each bad field, and the cause of internal errors, which a client never sees.
    pub fn operator_message(&self) -> String {
        if let ApiError::Internal(cause) | ApiError::StoreUnavailable(cause) = self {
            return format!("{}: {cause}", self.public_message());
        }
        let details: Vec<String> = self.details().iter().map(|d| format!("{}: {}", d.field, d.message)).collect();
        if details.is_empty() {
            self.public_message()
        } else {
            format!("{} ({})", self.public_message(), details.join("; "))
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        failure_response(self.failure())
    }
}

/// An [`ApiFailure`] as an HTTP response: its status, `Retry-After` when it has one, the JSON body.
pub fn failure_response(failure: ApiFailure) -> Response {
    let status = StatusCode::from_u16(failure.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let retry_after = failure.retry_after;
    let mut resp = (status, Json(failure)).into_response();
    if let Some(secs) = retry_after {
        resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_causes_stay_out_of_the_message() {
        let e = ApiError::Internal("disk sector 7 exploded".into());
        assert_eq!(e.public_message(), "Internal server error");
        let e = ApiError::StoreUnavailable("sqlite busy".into());
        assert!(!e.public_message().contains("sqlite"));
        assert_eq!(e.status(), StatusCode::SERVICE_UNAVAILABLE);
    }
}
