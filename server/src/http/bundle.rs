//! The browser bundle the server serves: how long browsers may keep its files
//! ([`cache_control`]), and a check that it was built split (`cargo leptos
//! build --split`). Every route of the app is lazy (`app/src/pages/routes.rs`);
//! a bundle built without `--split` imports a module named
//! `__wasm_split_placeholder__` that does not exist, so no page is ever
//! hydrated: no bell count, no live updates, no forms. The server still serves
//! such a bundle (its API works without it) and says why the pages are dead in
//! its log at start-up.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use axum::{
    extract::{Request, State},
    http::{header, HeaderValue, StatusCode},
    middleware::Next,
    response::Response,
};
use leptos::prelude::LeptosOptions;

/// How long browsers keep a file of the bundle at `path`, given the bundle's
/// URL prefix (`/pkg/`). The chunks of a build live in a directory named after
/// their content (`pkg/<16 hex digits>/`, scripts/version-chunks.py): they never
/// change, so browsers keep them a year without asking. Every other file of the
/// bundle keeps its name from build to build and is revalidated at each use
/// (`no-cache`: a 304 while it is unchanged), so a deploy reaches new tabs at
/// once. `None` outside the bundle.
pub fn cache_control(pkg_prefix: &str, path: &str) -> Option<&'static str> {
    let rest = path.strip_prefix(pkg_prefix)?;
    match rest.split_once('/') {
        Some((dir, _)) if dir.len() == 16 && dir.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) => {
            Some("public, max-age=31536000, immutable")
        }
        _ => Some("no-cache"),
    }
}

/// Sets [`cache_control`]'s policy on the static files answered (the state is
/// the bundle's URL prefix); errors and pages are left as they are.
pub async fn with_cache_control(State(pkg_prefix): State<Arc<str>>, req: Request, next: Next) -> Response {
    let policy = cache_control(&pkg_prefix, req.uri().path());
    let mut resp = next.run(req).await;
    if let Some(policy) = policy {
        if resp.status().is_success() || resp.status() == StatusCode::NOT_MODIFIED {
            resp.headers_mut().entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static(policy));
        }
    }
    resp
}

/// The URL prefix of the bundle's files (`/pkg/`).
pub fn pkg_prefix(options: &LeptosOptions) -> Arc<str> {
    format!("/{}/", options.site_pkg_dir.trim_matches('/')).into()
}

/// The import a bundle built without `--split` is left with.
const UNSPLIT_MARKER: &[u8] = b"__wasm_split_placeholder__";

/// The bundle's JS glue, as the pages link it.
fn glue(options: &LeptosOptions) -> PathBuf {
    Path::new(options.site_root.as_ref())
        .join(options.site_pkg_dir.as_ref())
        .join(format!("{}.js", options.output_name))
}

/// Whether the JS glue at `js` is one of a bundle built without `--split`.
/// A missing bundle is not: a server may serve the API alone.
pub fn built_unsplit(js: &Path) -> bool {
    std::fs::read(js).is_ok_and(|bytes| bytes.windows(UNSPLIT_MARKER.len()).any(|w| w == UNSPLIT_MARKER))
}

/// Logs an error at start-up when the served bundle was built without `--split`.
pub fn check(options: &LeptosOptions) {
    let js = glue(options);
    if built_unsplit(&js) {
        tracing::error!(
            bundle = %js.display(),
            "the browser bundle was built without --split: its pages will not hydrate (no bell, no live updates, \
             no forms); build it with `scripts/build-bundle.sh`"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_versioned_chunk_is_kept_and_everything_else_revalidated() {
        let year = Some("public, max-age=31536000, immutable");
        assert_eq!(cache_control("/pkg/", "/pkg/0123456789abcdef/chunk_12.wasm"), year);
        assert_eq!(cache_control("/pkg/", "/pkg/hookbell.wasm"), Some("no-cache"));
        assert_eq!(cache_control("/pkg/", "/pkg/__wasm_split.______________________.js"), Some("no-cache"));
        assert_eq!(
            cache_control("/pkg/", "/pkg/0123456789ABCDEF/chunk_12.wasm"),
            Some("no-cache"),
            "lower-case hex only"
        );
        assert_eq!(cache_control("/pkg/", "/pkg/0123456789abcde/chunk_12.wasm"), Some("no-cache"), "16 digits");
        assert_eq!(cache_control("/pkg/", "/favicon.svg"), None);
        assert_eq!(cache_control("/pkg/", "/settings/pkg/x"), None);
    }

    #[test]
    fn a_bundle_built_without_split_is_told_apart() {
        let dir = tempfile::tempdir().unwrap();
        let js = dir.path().join("hookbell.js");
        assert!(!built_unsplit(&js), "no bundle at all is not an unsplit one");
        std::fs::write(&js, r#"let e;import*as _ from"./__wasm_split.______________________.js";"#).unwrap();
        assert!(!built_unsplit(&js), "a split bundle imports the chunk loader");
        std::fs::write(&js, r#"let e,n;import*as _ from"__wasm_split_placeholder__";"#).unwrap();
        assert!(built_unsplit(&js));
    }
}
