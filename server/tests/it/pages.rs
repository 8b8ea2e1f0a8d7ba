//! The server-rendered dashboard and its server function.

use serde_json::Value;

use crate::harness::{order, TestServer};

#[tokio::test]
async fn dashboard_renders_the_bell_with_the_unread_count() {
    let srv = TestServer::start().await;
    let (demo, _) = srv.services.ensure_demo_tenant().await.unwrap();
    // Two orders for the demo tenant, stored through the service layer.
    for n in ["D-1", "D-2"] {
        let body = order(&demo.id, n).to_string();
        let sig = server::signature::sign_seed(srv.services.tenant_secret(&demo).unwrap().expose(), body.as_bytes());
        let (status, _) = srv.post_raw("/api/webhooks/orders", &body, Some(&sig)).await;
        assert_eq!(status, 201);
    }
    let resp = srv.http.get(srv.url("/")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.unwrap();
    assert!(html.contains("data-testid=\"bell\""), "no bell in page");
    assert!(html.contains("data-count=\"2\""), "bell count not rendered");
    assert!(html.contains("Demo Store"), "tenant name missing");
    assert!(html.contains("data-order=\"D-2\""), "recent orders missing");
    assert!(html.contains("Order D-1 placed · 99.99 USD"), "activity missing");
    assert!(html.contains("199.98 USD"), "today's revenue missing");
    assert!(html.contains("/pkg/hookbell.js"), "hydration script missing");

    let resp = srv.call_server_fn("/api/bell-state").await;
    assert_eq!(resp.status(), 200);
    let state: Value = resp.json().await.unwrap();
    assert_eq!(state["unreadCount"], 2);
    assert_eq!(state["tenantId"], demo.id.as_str());
    assert_eq!(state["latest"][0]["title"], "New order D-2");
}

#[tokio::test]
async fn production_without_sign_in_shows_no_tenant_data() {
    let key = server::sealing::Sealer::generate_key();
    let srv = TestServer::start_with(&[("HOOKBELL_ENV", "production"), ("HOOKBELL_SECRET_KEY", &key)]).await;
    let resp = srv.call_server_fn("/api/bell-state").await;
    assert_eq!(resp.status(), 401);
    let text = resp.text().await.unwrap();
    assert!(text.contains("Sign-in or an API key is required"), "{text}");
}

#[tokio::test]
async fn unknown_pages_are_404() {
    let srv = TestServer::start().await;
    let resp = srv.http.get(srv.url("/no/such/page")).send().await.unwrap();
    assert_eq!(resp.status(), 404);
}

/// Release builds (`cargo leptos build --release --precompress`) put `.br` and
/// `.gz` beside each file of the bundle; the server sends the best one the
/// browser accepts, so the WASM crosses the network compressed.
#[tokio::test]
async fn the_bundle_is_served_precompressed_to_browsers_that_accept_it() {
    let site = tempfile::tempdir().unwrap();
    let pkg = site.path().join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(pkg.join("hookbell.wasm"), b"\0asm raw").unwrap();
    std::fs::write(pkg.join("hookbell.wasm.br"), b"brotli bytes").unwrap();
    std::fs::write(pkg.join("hookbell.wasm.gz"), b"gzip bytes").unwrap();
    let root = site.path().to_string_lossy().into_owned();
    let srv = TestServer::start_with(&[(crate::harness::SITE_ROOT, &root)]).await;
    // reqwest is built without decompression: the bodies are the bytes on the wire.
    for (accept, encoding, body) in [
        ("gzip, deflate, br, zstd", Some("br"), "brotli bytes"),
        ("gzip", Some("gzip"), "gzip bytes"),
        ("identity", None, "\0asm raw"),
    ] {
        let resp = srv.http.get(srv.url("/pkg/hookbell.wasm")).header("accept-encoding", accept).send().await.unwrap();
        assert_eq!(resp.status(), 200, "{accept}");
        let got = resp.headers().get("content-encoding").map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(got.as_deref(), encoding, "{accept}");
        assert_eq!(resp.headers()["content-type"], "application/wasm");
        assert_eq!(resp.text().await.unwrap(), body, "{accept}");
    }
}

/// A build's chunks (`pkg/<version>/`, named after their content) are kept by
/// browsers for a year; the files that keep their name across builds are
/// revalidated at each use, so a deploy reaches a new tab at once.
#[tokio::test]
async fn versioned_chunks_are_cached_for_good_and_the_rest_revalidated() {
    let site = tempfile::tempdir().unwrap();
    let chunks = site.path().join("pkg").join("0123456789abcdef");
    std::fs::create_dir_all(&chunks).unwrap();
    std::fs::write(chunks.join("chunk_1.wasm"), b"\0asm chunk").unwrap();
    std::fs::write(site.path().join("pkg").join("hookbell.js"), b"export {}").unwrap();
    let root = site.path().to_string_lossy().into_owned();
    let srv = TestServer::start_with(&[(crate::harness::SITE_ROOT, &root)]).await;
    let cache_control = |path: &'static str| {
        let srv = &srv;
        async move {
            let resp = srv.http.get(srv.url(path)).send().await.unwrap();
            let value = resp.headers().get("cache-control").map(|v| v.to_str().unwrap().to_owned());
            (resp.status().as_u16(), value)
        }
    };
    let year = Some("public, max-age=31536000, immutable".to_owned());
    assert_eq!(cache_control("/pkg/0123456789abcdef/chunk_1.wasm").await, (200, year));
    assert_eq!(cache_control("/pkg/hookbell.js").await, (200, Some("no-cache".to_owned())));
    let (status, value) = cache_control("/pkg/0123456789abcdef/chunk_2.wasm").await;
    assert_eq!(status, 404);
    assert_ne!(value.as_deref(), Some("public, max-age=31536000, immutable"), "a miss is not kept");
}

/// The team's pages render on the server: Members (the demo owns its tenant,
/// so the invitation form is there), the invitation page (which reads its
/// token in the browser) and Account (the demo has none: it says why).
#[tokio::test]
async fn members_invitation_and_account_pages_render() {
    let srv = TestServer::start().await;
    let srv = &srv;
    let page = |path: &'static str, status: u16| async move {
        let resp = srv.http.get(srv.url(path)).send().await.unwrap();
        assert_eq!(resp.status(), status, "{path}");
        resp.text().await.unwrap()
    };
    let members = page("/settings/members", 200).await;
    assert!(
        members.contains("data-testid=\"invite-email\"") && members.contains("data-testid=\"members\""),
        "{members}"
    );
    assert!(members.contains("data-testid=\"invitations-empty\""));
    let invite = page("/invite", 200).await;
    assert!(invite.contains("data-testid=\"invite-loading\""), "{invite}");
    // The page's data was refused, and the page answers with that status.
    let account = page("/account", 403).await;
    assert!(account.contains("Only a signed-in user has an account"), "{account}");
}
