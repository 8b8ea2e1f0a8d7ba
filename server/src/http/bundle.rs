//! What the server checks of the browser bundle it serves: that it was built
//! split (`cargo leptos build --split`). Every route of the app is lazy
//! (`app/src/pages/routes.rs`); a bundle built without `--split` imports a
//! module named `__wasm_split_placeholder__` that does not exist, so no page
//! is ever hydrated: no bell count, no live updates, no forms. The server
//! still serves such a bundle (its API works without it) and says why the
//! pages are dead in its log at start-up.

use std::path::{Path, PathBuf};

use leptos::prelude::LeptosOptions;

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
             no forms); build it with `cargo leptos build --release --split --precompress`"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
