//! The one error shape of every route ([`ApiFailure`]), the invalid fields
//! it names ([`FieldError`]), and the seed's success envelope ([`success`]).

use serde::{Deserialize, Serialize};

/// One invalid field of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

/// The one error shape of every route — REST, webhooks, server functions and
/// socket acks: `{"success": false, "error": "…", "code": "…", "details": […]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiFailure {
    pub success: bool,
    /// A message safe to show to the caller.
    pub error: String,
    /// A stable machine-readable code (`validation_failed`, `unauthorized`, …).
    pub code: String,
    /// The fields at fault, for validation errors.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<FieldError>,
    /// The HTTP status it is answered with (not part of the body).
    #[serde(skip)]
    pub status: u16,
    /// Seconds to wait before trying again (`Retry-After`), for 429 and 503.
    #[serde(skip)]
    pub retry_after: Option<u64>,
}

impl ApiFailure {
    /// The code of a server function's arguments that did not decode (400).
    pub const INVALID_ARGUMENTS: &'static str = "invalid_arguments";

    pub fn new(status: u16, code: impl Into<String>, error: impl Into<String>) -> Self {
        Self { success: false, error: error.into(), code: code.into(), details: Vec::new(), status, retry_after: None }
    }
}

impl std::fmt::Display for ApiFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.error)
    }
}

impl std::error::Error for ApiFailure {}

/// The seed's success envelope: `{"success": true, …fields}` (fields of an object; anything else adds none).
pub fn success(fields: impl Serialize) -> serde_json::Value {
    let mut out = serde_json::Map::new();
    out.insert("success".into(), true.into());
    if let Ok(serde_json::Value::Object(fields)) = serde_json::to_value(fields) {
        for (k, v) in fields {
            if k != "success" {
                out.insert(k, v);
            }
        }
    }
    serde_json::Value::Object(out)
}
