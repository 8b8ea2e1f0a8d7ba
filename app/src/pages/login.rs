//! The sign-in page: email and password, posted to the `login` server
//! function; the session comes back as an HttpOnly cookie.

use leptos::prelude::*;

use crate::api::{FnError, Login};

/// The message of a server function's error.
pub fn error_text(e: &FnError) -> String {
    e.message().to_owned()
}

/// `/login`.
#[component]
pub fn LoginPage() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    let error = move || login.value().get().and_then(|r| r.err()).map(|e| error_text(&e));
    // Signed in: load the dashboard afresh, so every part of the page is the user's.
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if let Some(Ok(())) = login.value().get() {
            if let Some(window) = web_sys::window() {
                let _ = window.location().set_href("/");
            }
        }
    });
    view! {
        <section class="card login" aria-labelledby="login-heading">
            <h1 id="login-heading">"Sign in"</h1>
            <p class="muted">"Use the email and password your tenant's owner gave you."</p>
            <ActionForm action=login attr:class="login-form">
                <label for="login-email">"Email"</label>
                <input id="login-email" type="email" name="email" autocomplete="username" required/>
                <label for="login-password">"Password"</label>
                <input
                    id="login-password"
                    type="password"
                    name="password"
                    autocomplete="current-password"
                    required
                />
                <button type="submit" class="primary" disabled=move || login.pending().get()>
                    {move || if login.pending().get() { "Signing in…" } else { "Sign in" }}
                </button>
            </ActionForm>
            <p class="form-error" role="alert" data-testid="login-error" hidden=move || error().is_none()>
                {error}
            </p>
        </section>
    }
}
