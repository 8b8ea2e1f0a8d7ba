//! A button that copies a text to the clipboard and says so.

use leptos::prelude::*;

/// Copies `text` to the clipboard (browser); whether it could try.
fn copy_to_clipboard(text: &str) -> bool {
    #[cfg(feature = "hydrate")]
    if let Some(window) = web_sys::window() {
        let _ = window.navigator().clipboard().write_text(text);
        return true;
    }
    let _ = text;
    false
}

/// "Copy", then "Copied" once the text went to the clipboard.
#[component]
pub fn CopyButton(
    text: String,
    /// The accessible name, when "Copy" alone would be ambiguous.
    #[prop(optional, into)]
    label: Option<String>,
    #[prop(optional)] testid: Option<&'static str>,
) -> impl IntoView {
    let copied = RwSignal::new(false);
    view! {
        <button type="button" class="chip" aria-label=label data-testid=testid
            on:click=move |_| copied.set(copy_to_clipboard(&text))>
            {move || if copied.get() { "Copied" } else { "Copy" }}
        </button>
    }
}
