//! `/invite#hbi_…`: the page an invitation's link opens. The token is read
//! from the fragment in the browser (it never reaches a server log); the page
//! says what the link invites to, then the invitee creates an account (name
//! and password), signs in to the one they have, or — signed in already as
//! the invited email — accepts at once. Only acceptance adds the membership.

use leptos::prelude::*;

use crate::{
    api::{accept_invitation, get_invitation},
    models::InvitationPreview,
};

/// The invitation's token, from the page's fragment.
fn token_from_fragment() -> Option<String> {
    #[cfg(feature = "hydrate")]
    {
        let hash = web_sys::window()?.location().hash().ok()?;
        let token = hash.trim_start_matches('#').trim().to_owned();
        (!token.is_empty()).then_some(token)
    }
    #[cfg(not(feature = "hydrate"))]
    None
}

/// The invitation page.
#[component]
pub fn InvitePage() -> impl IntoView {
    let token = RwSignal::new(None::<String>);
    let preview = RwSignal::new(None::<Result<InvitationPreview, String>>);
    let error = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        let Some(t) = token_from_fragment() else {
            preview.set(Some(Err("This link holds no invitation: open the whole link you were given.".into())));
            return;
        };
        token.set(Some(t.clone()));
        leptos::task::spawn_local(async move {
            preview.set(Some(get_invitation(t).await.map_err(|e| crate::pages::error_text(&e))));
        });
    });
    let accept = Callback::new(move |(name, password): (Option<String>, String)| {
        let Some(t) = token.get_untracked() else { return };
        leptos::task::spawn_local(async move {
            match accept_invitation(t, name, password).await {
                Ok(()) =>
                {
                    #[cfg(feature = "hydrate")]
                    if let Some(window) = web_sys::window() {
                        let _ = window.location().set_href("/");
                    }
                }
                Err(e) => error.set(Some(crate::pages::error_text(&e))),
            }
        });
    });
    view! {
        <section class="card login" aria-labelledby="invite-heading">
            <h1 id="invite-heading">"Invitation"</h1>
            {move || match preview.get() {
                None => view! { <p class="muted" data-testid="invite-loading">"Reading the invitation…"</p> }.into_any(),
                Some(Err(e)) => view! { <p class="form-error" role="alert" data-testid="invite-invalid">{e}</p> }.into_any(),
                Some(Ok(p)) => view! { <Choices preview=p accept/> }.into_any(),
            }}
            {move || error.get().map(|e| view! { <p class="form-error" role="alert" data-testid="invite-error">{e}</p> })}
        </section>
    }
}

#[component]
fn Choices(preview: InvitationPreview, accept: Callback<(Option<String>, String)>) -> impl IntoView {
    let intro = view! {
        <p data-testid="invite-summary">
            "You are invited to "<strong>{preview.tenant_name.clone()}</strong>" as "
            <strong>{preview.role.as_str()}</strong>", as "{preview.email.clone()}"."
        </p>
    };
    let body = match &preview.signed_in_as {
        Some(me) if *me == preview.email => view! {
            <button type="button" class="primary" data-testid="invite-accept"
                on:click=move |_| accept.run((None, String::new()))>"Accept and open the dashboard"</button>
        }
        .into_any(),
        Some(me) => view! {
            <p class="form-error" data-testid="invite-other-user">
                {format!("You are signed in as {me}. Sign out, then open the link again to accept as {}.", preview.email)}
            </p>
        }
        .into_any(),
        None => view! { <NewOrExisting accept/> }.into_any(),
    };
    view! { {intro} {body} }
}

#[component]
fn NewOrExisting(accept: Callback<(Option<String>, String)>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let existing = RwSignal::new(String::new());
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        accept.run((Some(name.get_untracked()), password.get_untracked()));
    };
    let sign_in = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        accept.run((None, existing.get_untracked()));
    };
    view! {
        <h2>"New to hookbell"</h2>
        <form class="login-form" on:submit=create>
            <label for="invite-name">"Your name"</label>
            <input id="invite-name" type="text" required maxlength="100" autocomplete="name" data-testid="invite-name"
                prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
            <label for="invite-password">"Choose a password"</label>
            <input id="invite-password" type="password" required minlength="8" autocomplete="new-password"
                data-testid="invite-password"
                prop:value=move || password.get() on:input=move |ev| password.set(event_target_value(&ev))/>
            <button type="submit" class="primary" data-testid="invite-create">"Create account and join"</button>
        </form>
        <h2>"I have an account"</h2>
        <form class="login-form" on:submit=sign_in>
            <label for="invite-existing">"Its password"</label>
            <input id="invite-existing" type="password" required autocomplete="current-password"
                data-testid="invite-existing-password"
                prop:value=move || existing.get() on:input=move |ev| existing.set(event_target_value(&ev))/>
            <button type="submit" class="primary" data-testid="invite-sign-in">"Sign in and join"</button>
        </form>
    }
}
