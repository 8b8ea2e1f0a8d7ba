use leptos::prelude::*;

/// Shown for any path the router does not know.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    {
        if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
            resp.set_status(http::StatusCode::NOT_FOUND);
        }
    }
    view! {
        <section class="card empty">
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address. "<a href="/">"Back to the dashboard"</a></p>
        </section>
    }
}
