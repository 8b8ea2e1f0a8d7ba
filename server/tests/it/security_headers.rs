//! Pages carry a Content-Security-Policy whose nonce is the one on Leptos'
//! inline scripts; every response carries nosniff, a referrer policy and
//! frame denial; CORS answers only the seed's origins, and not on webhooks.

use reqwest::{header, Method};

use crate::harness::TestServer;

#[tokio::test]
async fn pages_have_a_csp_with_the_scripts_nonce() {
    let srv = TestServer::start().await;
    let resp = srv.http.get(srv.url("/")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let csp = resp.headers()[header::CONTENT_SECURITY_POLICY].to_str().unwrap().to_owned();
    assert_eq!(resp.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(resp.headers()[header::X_FRAME_OPTIONS], "DENY");
    assert!(resp.headers().contains_key(header::REFERRER_POLICY));
    let html = resp.text().await.unwrap();
    for directive in ["default-src 'self'", "frame-ancestors 'none'", "object-src 'none'", "'wasm-unsafe-eval'"] {
        assert!(csp.contains(directive), "{directive} missing: {csp}");
    }
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    let nonce = csp.split("'nonce-").nth(1).and_then(|r| r.split('\'').next()).expect("a nonce");
    assert!(nonce.len() >= 16, "{nonce}");
    assert!(html.contains(&format!("nonce=\"{nonce}\"")), "the inline scripts carry the nonce");
    // Every inline script carries it.
    let scripts = html.matches("<script").count();
    let with_nonce = html.matches(&format!("nonce=\"{nonce}\"")).count();
    assert!(scripts > 0 && with_nonce >= scripts, "{with_nonce} of {scripts} scripts have the nonce");
    // A new page, a new nonce.
    let again = srv.http.get(srv.url("/")).send().await.unwrap();
    assert_ne!(again.headers()[header::CONTENT_SECURITY_POLICY].to_str().unwrap(), csp);

    // API answers carry the common headers too.
    let api = srv.http.get(srv.url("/api/webhooks/health")).send().await.unwrap();
    assert_eq!(api.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
}

async fn preflight(srv: &TestServer, path: &str, origin: &str) -> Option<(String, String)> {
    let resp = srv
        .http
        .request(Method::OPTIONS, srv.url(path))
        .header(header::ORIGIN, origin)
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "PATCH")
        .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "content-type,x-tenant-id")
        .send()
        .await
        .unwrap();
    let h = resp.headers();
    let allow = h.get(header::ACCESS_CONTROL_ALLOW_ORIGIN)?.to_str().unwrap().to_owned();
    let creds = h.get(header::ACCESS_CONTROL_ALLOW_CREDENTIALS).map(|v| v.to_str().unwrap().to_owned());
    Some((allow, creds.unwrap_or_default()))
}

#[tokio::test]
async fn cors_allows_the_seeds_origins_only_and_not_on_webhooks() {
    let dev = TestServer::start().await;
    for origin in ["http://localhost:5173", "http://localhost:3000"] {
        let got = preflight(&dev, "/api/webhooks/settings", origin).await;
        assert_eq!(got, Some((origin.to_owned(), "true".to_owned())), "{origin}");
    }
    assert_eq!(preflight(&dev, "/api/webhooks/settings", "https://evil.example").await, None);
    assert_eq!(preflight(&dev, "/api/webhooks/orders", "http://localhost:5173").await, None, "webhooks: no CORS");

    let key = server::sealing::Sealer::generate_key();
    let prod = TestServer::start_with(&[
        ("HOOKBELL_ENV", "production"),
        ("HOOKBELL_SECRET_KEY", &key),
        ("CLIENT_URL", "https://dash.example.com/"),
    ])
    .await;
    let got = preflight(&prod, "/api/auth/login", "https://dash.example.com").await;
    assert_eq!(got, Some(("https://dash.example.com".to_owned(), "true".to_owned())));
    assert_eq!(preflight(&prod, "/api/webhooks/settings", "http://localhost:5173").await, None);
}
