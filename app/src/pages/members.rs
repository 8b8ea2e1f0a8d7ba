//! Settings → Members (owners change, admins read and invite): the team with
//! roles and last sign-in, the pending invitations (revoke), and a form that
//! invites an email with a role — its link shown once, with a copy button.
//! The page refetches when the team changes anywhere (a `dashboard-refresh`).

use leptos::prelude::*;

use super::Unavailable;

use crate::{
    api::{change_member_role, get_members, invite_member, remove_member, revoke_invitation},
    components::CopyButton,
    live::use_live_state,
    models::{CreatedInvitation, InvitationInfo, MemberInfo, MembersView, Role, Timestamp, UserId},
};

fn day(t: Timestamp) -> String {
    t.to_string().get(..10).unwrap_or_default().to_owned()
}

/// The members page.
#[component]
pub fn MembersPage() -> impl IntoView {
    let live = use_live_state();
    let reload = RwSignal::new(0u64);
    let team = Resource::new(move || (reload.get(), live.refresh_tick.get()), |_| get_members());
    let created = RwSignal::new(None::<CreatedInvitation>);
    let error = RwSignal::new(None::<String>);
    let email = RwSignal::new(String::new());
    let role = RwSignal::new("member".to_owned());
    let done = move |r: Result<(), crate::api::FnError>| match r {
        Ok(()) => {
            error.set(None);
            reload.update(|x| *x += 1);
        }
        Err(e) => error.set(Some(crate::pages::error_text(&e))),
    };
    let invite = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (e, r) = (email.get_untracked(), role.get_untracked());
        leptos::task::spawn_local(async move {
            match invite_member(e, Some(r)).await {
                Ok(inv) => {
                    email.set(String::new());
                    created.set(Some(inv));
                    done(Ok(()));
                }
                Err(e) => done(Err(e)),
            }
        });
    };
    let actions = Actions {
        set_role: Callback::new(move |(user, role): (UserId, Role)| {
            leptos::task::spawn_local(async move {
                done(change_member_role(user.to_string(), role.as_str().to_owned()).await)
            });
        }),
        remove: Callback::new(move |user: UserId| {
            leptos::task::spawn_local(async move { done(remove_member(user.to_string()).await) });
        }),
        revoke: Callback::new(move |id: String| {
            leptos::task::spawn_local(async move { done(revoke_invitation(id).await) });
        }),
    };

    view! {
        <section class="card settings" aria-labelledby="members-heading">
            <h1 id="members-heading">"Members"</h1>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match team.await {
                        Ok(view) => {
                            let form = (view.role >= Role::Admin).then(|| view! {
                                <InviteForm email role owner=view.role == Role::Owner on_submit=invite/>
                            });
                            let known: Vec<String> = view.members.iter().map(|m| m.email.clone()).collect();
                            let already = move || {
                                let typed = email.get().trim().to_lowercase();
                                known.contains(&typed)
                            };
                            view! {
                                {form}
                                <p class="hint" hidden=move || !already()>
                                    "This email is a member already: an invitation leaves their role as it is."
                                </p>
                                <Team view actions/>
                            }
                            .into_any()
                        }
                        Err(e) => view! { <Unavailable what="Members" error=e/> }.into_any(),
                    }
                })}
            </Suspense>
            {move || error.get().map(|e| view! { <p class="form-error" role="alert" data-testid="members-error">{e}</p> })}
            {move || created.get().map(|c| view! { <NewInvitation created=c/> })}
        </section>
    }
    .into_any()
}

/// What the rows' buttons do.
#[derive(Clone, Copy)]
struct Actions {
    set_role: Callback<(UserId, Role)>,
    remove: Callback<UserId>,
    revoke: Callback<String>,
}

#[component]
fn InviteForm(
    email: RwSignal<String>,
    role: RwSignal<String>,
    owner: bool,
    on_submit: impl Fn(leptos::ev::SubmitEvent) + 'static,
) -> impl IntoView {
    view! {
        <form class="inline-form" on:submit=on_submit>
            <label>"Email"
                <input type="email" required maxlength="254" data-testid="invite-email" placeholder="colleague@example.com"
                    prop:value=move || email.get() on:input=move |ev| email.set(event_target_value(&ev))/>
            </label>
            <label>"Role"
                <select data-testid="invite-role" prop:value=move || role.get()
                    on:change=move |ev| role.set(event_target_value(&ev))>
                    <option value="member">"Member (reads notifications)"</option>
                    <option value="admin">"Admin (also settings, keys, invitations)"</option>
                    {owner.then(|| view! { <option value="owner">"Owner (also the team)"</option> })}
                </select>
            </label>
            <button type="submit" class="primary" data-testid="invite">"Invite"</button>
        </form>
    }
}

/// The invitation just made, its link shown this once.
#[component]
fn NewInvitation(created: CreatedInvitation) -> impl IntoView {
    view! {
        <div class="reveal" role="alert" data-testid="new-invitation">
            <p><strong>{format!("Invitation for {} created. ", created.invitation.email)}</strong>
                "Send this link to them yourself: hookbell sends no email. It works once, for 7 days, and is not shown again."</p>
            <div class="reveal-row">
                <code data-testid="invitation-url">{created.url.clone()}</code>
                <CopyButton text=created.url testid="copy-invitation"/>
            </div>
        </div>
    }
}

#[component]
fn Team(view: MembersView, actions: Actions) -> impl IntoView {
    let owner = view.role == Role::Owner;
    let me = view.me.clone();
    let rows = view
        .members
        .into_iter()
        .map(|m| {
            let mine = me.as_ref() == Some(&m.user_id);
            view! { <MemberRow member=m owner mine actions/> }
        })
        .collect_view();
    view! {
        <table class="keys" data-testid="members">
            <thead><tr><th>"Name"</th><th>"Email"</th><th>"Role"</th><th>"Joined"</th><th>"Last sign-in"</th><th></th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
        <h2>"Pending invitations"</h2>
        <Invitations invitations=view.invitations revoke=actions.revoke can_revoke_owners=owner/>
    }
}

#[component]
fn MemberRow(member: MemberInfo, owner: bool, mine: bool, actions: Actions) -> impl IntoView {
    let user = member.user_id.clone();
    let role_cell = if owner {
        let user = user.clone();
        let current = member.role;
        view! {
            <select data-testid="member-role" aria-label=format!("Role of {}", member.name)
                on:change=move |ev| {
                    if let Some(role) = Role::parse(&event_target_value(&ev)) {
                        actions.set_role.run((user.clone(), role));
                    }
                }>
                {Role::ALL.into_iter().map(|r| view! {
                    <option value=r.as_str() selected=r == current>{r.as_str()}</option>
                }).collect_view()}
            </select>
        }
        .into_any()
    } else {
        view! { <span>{member.role.as_str()}</span> }.into_any()
    };
    let remove = (owner && !mine).then(|| {
        let user = user.clone();
        view! {
            <button type="button" class="chip danger" data-testid="member-remove"
                aria-label=format!("Remove {}", member.name) on:click=move |_| actions.remove.run(user.clone())>
                "Remove"
            </button>
        }
    });
    view! {
        <tr data-testid="member-row" data-email=member.email.clone()>
            <td>{member.name.clone()}{mine.then_some(" (you)")}</td>
            <td>{member.email.clone()}</td>
            <td>{role_cell}</td>
            <td>{day(member.created_at)}</td>
            <td>{member.last_sign_in_at.map(day).unwrap_or_else(|| "never".into())}</td>
            <td>{remove}</td>
        </tr>
    }
}

#[component]
fn Invitations(invitations: Vec<InvitationInfo>, revoke: Callback<String>, can_revoke_owners: bool) -> impl IntoView {
    if invitations.is_empty() {
        return view! { <p class="muted" data-testid="invitations-empty">"No invitations pending."</p> }.into_any();
    }
    view! {
        <table class="keys" data-testid="invitations">
            <thead><tr><th>"Email"</th><th>"Role"</th><th>"Sent"</th><th>"Expires"</th><th></th></tr></thead>
            <tbody>
                {invitations.into_iter().map(|i| {
                    let id = i.id.to_string();
                    let may = can_revoke_owners || i.role != Role::Owner;
                    view! {
                        <tr data-testid="invitation-row" data-email=i.email.clone()>
                            <td>{i.email.clone()}</td>
                            <td>{i.role.as_str()}</td>
                            <td>{day(i.created_at)}</td>
                            <td>{day(i.expires_at)}</td>
                            <td>{may.then(|| view! {
                                <button type="button" class="chip danger" data-testid="invitation-revoke"
                                    aria-label=format!("Revoke the invitation of {}", i.email)
                                    on:click=move |_| revoke.run(id.clone())>"Revoke"</button>
                            })}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}
