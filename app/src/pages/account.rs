//! `/account`, every signed-in user's own page: a new password (the current
//! one required; every other session ends), the sessions (device, address,
//! last use) with "sign out" for one or all, and the user's tenants with
//! "leave" (refused for a tenant's last owner).

use leptos::prelude::*;

use super::Unavailable;

use crate::{
    api::{change_password, end_session, get_account, leave_tenant, logout_everywhere},
    models::{AccountView, SessionInfo, TenantChoice, Timestamp},
};

fn when(t: Timestamp) -> String {
    t.to_string().get(..16).unwrap_or_default().replace('T', " ")
}

/// Sends the browser to `path` (a full load, so every part of the page is fresh).
fn go(path: &str) {
    #[cfg(feature = "hydrate")]
    if let Some(window) = web_sys::window() {
        let _ = window.location().set_href(path);
    }
    let _ = path;
}

/// The account page.
#[component]
pub fn AccountPage() -> impl IntoView {
    let reload = RwSignal::new(0u64);
    let account = Resource::new(move || reload.get(), |_| get_account());
    let error = RwSignal::new(None::<String>);
    let notice = RwSignal::new(None::<String>);
    let after = move |r: Result<(), crate::api::FnError>| match r {
        Ok(()) => {
            error.set(None);
            reload.update(|x| *x += 1);
        }
        Err(e) => error.set(Some(crate::pages::error_text(&e))),
    };
    let end = Callback::new(move |(id, current): (String, bool)| {
        leptos::task::spawn_local(async move {
            let r = end_session(id).await;
            if current && r.is_ok() {
                go("/login");
            }
            after(r);
        });
    });
    let leave = Callback::new(move |tenant: String| {
        leptos::task::spawn_local(async move {
            let r = leave_tenant(tenant).await;
            if r.is_ok() {
                go("/account");
            }
            after(r);
        });
    });
    let everywhere = move |_| {
        leptos::task::spawn_local(async move {
            match logout_everywhere().await {
                Ok(()) => go("/login"),
                Err(e) => error.set(Some(crate::pages::error_text(&e))),
            }
        });
    };
    view! {
        <section class="card settings" aria-labelledby="account-heading">
            <h1 id="account-heading">"Account"</h1>
            {move || error.get().map(|e| view! { <p class="form-error" role="alert" data-testid="account-error">{e}</p> })}
            {move || notice.get().map(|n| view! { <p class="notice" role="status" data-testid="account-notice">{n}</p> })}
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match account.await {
                        Ok(a) => view! { <Account account=a end leave/> }.into_any(),
                        Err(e) => view! { <Unavailable what="Your account's details" error=e/> }.into_any(),
                    }
                })}
            </Suspense>
            <PasswordForm error notice reload/>
            <p>
                <button type="button" class="chip danger" data-testid="sign-out-everywhere" on:click=everywhere>
                    "Sign out everywhere"
                </button>
            </p>
        </section>
    }
}

#[component]
fn Account(account: AccountView, end: Callback<(String, bool)>, leave: Callback<String>) -> impl IntoView {
    view! {
        <p data-testid="account-email">{format!("{} · {}", account.name, account.email)}</p>
        <h2>"Sessions"</h2>
        <table class="keys" data-testid="sessions">
            <thead><tr><th>"Device"</th><th>"Address"</th><th>"Signed in"</th><th>"Last used"</th><th></th></tr></thead>
            <tbody>{account.sessions.into_iter().map(|s| view! { <SessionRow session=s end/> }).collect_view()}</tbody>
        </table>
        <h2>"Tenants"</h2>
        <table class="keys" data-testid="my-tenants">
            <thead><tr><th>"Tenant"</th><th>"Role"</th><th></th></tr></thead>
            <tbody>{account.tenants.into_iter().map(|t| view! { <TenantRow tenant=t leave/> }).collect_view()}</tbody>
        </table>
    }
}

#[component]
fn SessionRow(session: SessionInfo, end: Callback<(String, bool)>) -> impl IntoView {
    let (id, current) = (session.id.clone(), session.current);
    view! {
        <tr data-testid="session-row" data-current=current.to_string()>
            <td>{session.device.clone()}{current.then_some(" (this browser)")}</td>
            <td>{session.ip.clone().unwrap_or_else(|| "—".into())}</td>
            <td>{when(session.created_at)}</td>
            <td>{when(session.last_seen_at)}</td>
            <td>
                <button type="button" class="chip" data-testid="session-end"
                    on:click=move |_| end.run((id.clone(), current))>"Sign out"</button>
            </td>
        </tr>
    }
}

#[component]
fn TenantRow(tenant: TenantChoice, leave: Callback<String>) -> impl IntoView {
    let id = tenant.tenant_id.to_string();
    view! {
        <tr data-testid="tenant-row">
            <td>{tenant.name.clone()}</td>
            <td>{tenant.role.as_str()}</td>
            <td>
                <button type="button" class="chip danger" data-testid="tenant-leave"
                    aria-label=format!("Leave {}", tenant.name) on:click=move |_| leave.run(id.clone())>"Leave"</button>
            </td>
        </tr>
    }
}

#[component]
fn PasswordForm(
    error: RwSignal<Option<String>>,
    notice: RwSignal<Option<String>>,
    reload: RwSignal<u64>,
) -> impl IntoView {
    let current = RwSignal::new(String::new());
    let new = RwSignal::new(String::new());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (c, n) = (current.get_untracked(), new.get_untracked());
        leptos::task::spawn_local(async move {
            match change_password(c, n).await {
                Ok(ended) => {
                    current.set(String::new());
                    new.set(String::new());
                    error.set(None);
                    notice.set(Some(format!("Password changed; {ended} other session(s) signed out.")));
                    reload.update(|x| *x += 1);
                }
                Err(e) => error.set(Some(crate::pages::error_text(&e))),
            }
        });
    };
    view! {
        <h2>"Password"</h2>
        <form class="inline-form" on:submit=submit>
            <label>"Current password"
                <input type="password" required autocomplete="current-password" data-testid="current-password"
                    prop:value=move || current.get() on:input=move |ev| current.set(event_target_value(&ev))/>
            </label>
            <label>"New password"
                <input type="password" required minlength="8" autocomplete="new-password" data-testid="new-password"
                    prop:value=move || new.get() on:input=move |ev| new.set(event_target_value(&ev))/>
            </label>
            <button type="submit" class="primary" data-testid="change-password">"Change password"</button>
        </form>
        <p class="hint">"Changing it signs out every other browser you are signed in on."</p>
    }
}
