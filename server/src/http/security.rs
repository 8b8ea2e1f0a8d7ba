//! Browser-facing protections: the Content-Security-Policy of pages (with
//! the per-response nonce Leptos puts on its inline scripts), headers every
//! response carries, and CORS for the API as the seed sets it (development:
//! localhost:5173 and localhost:3000; otherwise only `CLIENT_URL`; credentials
//! only for those origins). Webhook endpoints are called by servers and get
//! no CORS.

use axum::http::{header, HeaderName, HeaderValue, Method};
use leptos::prelude::use_context;
use tower_http::{cors::CorsLayer, set_header::SetResponseHeaderLayer};

use crate::config::{Config, Mode};

/// The policy of a page rendered with `nonce`. WebAssembly needs
/// `'wasm-unsafe-eval'`; the socket and server functions are same-origin.
pub fn content_security_policy(nonce: &str, mode: Mode) -> String {
    // cargo-leptos' live reload (development only) connects to its own port.
    let connect = match mode {
        Mode::Development => "'self' ws://127.0.0.1:* ws://localhost:*",
        Mode::Production => "'self'",
    };
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self' data:; connect-src {connect}; font-src 'self'; object-src 'none'; base-uri 'self'; \
         form-action 'self'; frame-ancestors 'none'"
    )
}

/// Sets the page's CSP from inside a Leptos render (the nonce exists only there).
pub fn set_page_policy(mode: Mode) {
    if let (Some(nonce), Some(response)) = (leptos::nonce::use_nonce(), use_context::<leptos_axum::ResponseOptions>()) {
        if let Ok(value) = HeaderValue::from_str(&content_security_policy(&nonce.to_string(), mode)) {
            response.insert_header(header::CONTENT_SECURITY_POLICY, value);
        }
    }
}

/// Headers on every response (kept when a handler set its own).
pub fn common_headers() -> [SetResponseHeaderLayer<HeaderValue>; 3] {
    [
        SetResponseHeaderLayer::if_not_present(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        ),
        SetResponseHeaderLayer::if_not_present(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
    ]
}

/// CORS for the REST API: the configured origins only, with credentials.
pub fn api_cors(config: &Config) -> CorsLayer {
    let origins: Vec<HeaderValue> =
        config.cors_origins().iter().filter_map(|o| HeaderValue::from_str(o).ok()).collect();
    CorsLayer::new()
        .allow_origin(origins)
        .allow_credentials(true)
        .allow_methods([Method::GET, Method::POST, Method::PATCH, Method::PUT, Method::DELETE])
        .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION, HeaderName::from_static("x-tenant-id")])
        .max_age(std::time::Duration::from_secs(600))
}
