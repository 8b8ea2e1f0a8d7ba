//! All notifications: tabs (Unread, All, Snoozed, Dismissed: the reader's
//! own state), filters (type, priority), cursor pagination ("Load more") and
//! marking several read at once. The list is fetched by a
//! server function over the same service call as `GET /api/notifications`,
//! and fetched again when the dashboard is told that notifications changed
//! or the reader's state of one did (in any tab, or a snooze waking).

use leptos::prelude::*;

use super::Unavailable;

use crate::{
    api::{list_notifications, update_notification},
    components::type_icon,
    live::use_live_state,
    models::{Notification, NotificationPage, NotificationQuery, Priority},
};

/// Notifications per page.
pub const PAGE_SIZE: u32 = 20;

/// The tabs: (value, label).
const TABS: [(&str, &str); 4] =
    [("unread", "Unread"), ("all", "All"), ("snoozed", "Snoozed"), ("dismissed", "Dismissed")];

/// The query of a tab, the filters and an optional cursor.
fn query(tab: &str, kind: &str, priority: &str, after: Option<String>) -> NotificationQuery {
    let chosen = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    let view = match tab {
        "snoozed" | "dismissed" => Some(tab.to_owned()),
        _ => None,
    };
    NotificationQuery {
        limit: Some(PAGE_SIZE),
        include_read: Some(tab != "unread"),
        include_dismissed: Some(false),
        kind: chosen(kind),
        priority: chosen(priority),
        after,
        view,
        ..Default::default()
    }
}

/// The notifications page.
#[component]
pub fn NotificationsPage() -> impl IntoView {
    let live = use_live_state();
    let status = RwSignal::new("all".to_owned());
    let kind = RwSignal::new(String::new());
    let priority = RwSignal::new(String::new());
    // Bumped after a bulk change, to fetch the first page again.
    let reload = RwSignal::new(0u64);
    let first = Resource::new(
        move || (status.get(), kind.get(), priority.get(), (live.refresh_tick.get(), live.changes.get()), reload.get()),
        |(s, k, p, _, _)| list_notifications(query(&s, &k, &p, None)),
    );
    // Pages fetched with "Load more", and the cursor after the last of them.
    let more = RwSignal::new(Vec::<Notification>::new());
    let next = RwSignal::new(None::<Option<String>>);
    let selected = RwSignal::new(Vec::<String>::new());
    let error = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        first.track();
        more.set(Vec::new());
        next.set(None);
        selected.set(Vec::new());
    });

    let load_more = move |cursor: String| {
        leptos::task::spawn_local(async move {
            let q = query(&status.get_untracked(), &kind.get_untracked(), &priority.get_untracked(), Some(cursor));
            match list_notifications(q).await {
                Ok(page) => {
                    more.update(|m| m.extend(page.notifications));
                    next.set(Some(page.next_cursor));
                }
                Err(e) => error.set(Some(crate::pages::error_text(&e))),
            }
        });
    };
    let mark_selected = move |_| {
        let ids = selected.get_untracked();
        leptos::task::spawn_local(async move {
            for id in ids {
                if let Err(e) = update_notification(id, Some(true), None).await {
                    error.set(Some(crate::pages::error_text(&e)));
                }
            }
            reload.update(|r| *r += 1);
        });
    };

    view! {
        <section class="card notifications-page" aria-labelledby="all-heading">
            <header class="page-head">
                <h1 id="all-heading">"Notifications"</h1>
                <div class="filters">
                    <Filter label="Type" testid="filter-type" value=kind
                        options=&[("", "Any type"), ("info", "Info"), ("success", "Success"), ("warning", "Warning"), ("error", "Error")]/>
                    <Filter label="Priority" testid="filter-priority" value=priority
                        options=&[("", "Any priority"), ("low", "Low"), ("medium", "Medium"), ("high", "High"), ("urgent", "Urgent")]/>
                </div>
            </header>
            <div class="tabs" role="tablist" aria-label="Which notifications">
                {TABS.iter().map(|(value, text)| view! {
                    <button type="button" role="tab" class="tab" data-testid=format!("tab-{value}")
                        aria-selected=move || (status.get() == *value).to_string()
                        on:click=move |_| status.set((*value).to_owned())>{*text}</button>
                }).collect_view()}
            </div>
            <div class="bulk-bar">
                <button type="button" class="chip" data-testid="mark-selected"
                    disabled=move || selected.with(Vec::is_empty) on:click=mark_selected>
                    {move || format!("Mark selected as read ({})", selected.with(Vec::len))}
                </button>
                {move || error.get().map(|e| view! { <span class="form-error" role="alert">{e}</span> })}
            </div>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match first.await {
                        Ok(page) => view! { <Rows page=page more=more next=next selected=selected load_more=load_more/> }.into_any(),
                        Err(e) => view! { <Unavailable what="Notifications" error=e/> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
    .into_any()
}

#[component]
fn Filter(
    label: &'static str,
    testid: &'static str,
    value: RwSignal<String>,
    options: &'static [(&'static str, &'static str)],
) -> impl IntoView {
    view! {
        <label class="filter">
            <span>{label}</span>
            <select data-testid=testid on:change=move |ev| value.set(event_target_value(&ev))
                prop:value=move || value.get()>
                {options.iter().map(|(v, text)| view! { <option value=*v>{*text}</option> }).collect_view()}
            </select>
        </label>
    }
}

#[component]
fn Rows(
    page: NotificationPage,
    more: RwSignal<Vec<Notification>>,
    next: RwSignal<Option<Option<String>>>,
    selected: RwSignal<Vec<String>>,
    load_more: impl Fn(String) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let NotificationPage { notifications, next_cursor, .. } = page;
    let empty = notifications.is_empty();
    // Plain closures over the parent's signals: this component is replaced
    // whenever the filters change, and must leave nothing behind that they notify.
    let rows = move || {
        let mut all = notifications.clone();
        all.extend(more.get());
        all
    };
    let cursor = move || next.get().unwrap_or_else(|| next_cursor.clone());
    view! {
        <ul class="notif-list" data-testid="notif-list">
            <For each=rows key=|n| n.id.clone() let:n>
                <Row n=n selected=selected/>
            </For>
        </ul>
        {empty.then(|| view! {
            <div class="empty" data-testid="notif-empty">
                <p class="empty-title">"No notifications match these filters"</p>
                <p>"Change the filters above, or wait: new ones appear here as webhooks arrive."</p>
            </div>
        })}
        {move || cursor().map(|c| view! {
            <button type="button" class="chip load-more" data-testid="load-more"
                on:click=move |_| load_more(c.clone())>"Load more"</button>
        })}
    }
    .into_any()
}

#[component]
fn Row(n: Notification, selected: RwSignal<Vec<String>>) -> impl IntoView {
    let Notification { id, title, message, kind, priority, is_read, is_dismissed, created_at, snoozed_until, .. } = n;
    let id = id.into_string();
    let state = if snoozed_until.is_some() {
        "snoozed"
    } else if is_dismissed {
        "dismissed"
    } else if is_read {
        "read"
    } else {
        "unread"
    };
    let toggle_id = id.clone();
    let checked_id = id;
    view! {
        <li class=format!("notif-row type-{}", kind.as_str()) class:unread=!is_read data-testid="notif-row"
            data-type=kind.as_str() data-priority=priority.as_str() data-state=state>
            <input type="checkbox" class="notif-select" aria-label=format!("Select {title}")
                prop:checked=move || selected.with(|s| s.contains(&checked_id))
                on:change=move |ev| {
                    let on = event_target_checked(&ev);
                    selected.update(|s| {
                        s.retain(|x| x != &toggle_id);
                        if on {
                            s.push(toggle_id.clone());
                        }
                    });
                }/>
            <span class=format!("type-icon type-icon-{}", kind.as_str()) aria-hidden="true">{type_icon(kind)}</span>
            <div class="notif-body">
                <p class="notif-title">{title}{label(priority)}</p>
                <p class="notif-message">{message}</p>
            </div>
            <div class="notif-meta">
                <span class=format!("state state-{state}")>{state}</span>
                <time datetime=created_at.to_string()>{created_at.to_string().get(..16).unwrap_or_default().replace('T', " ")}</time>
            </div>
        </li>
    }
}

fn label(priority: Priority) -> Option<impl IntoView> {
    matches!(priority, Priority::High | Priority::Urgent)
        .then(|| view! { <span class=format!("priority priority-{}", priority.as_str())>{priority.as_str()}</span> })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_become_the_seed_query() {
        let q = query("unread", "warning", "", None);
        assert_eq!((q.include_read, q.include_dismissed, q.view.as_deref()), (Some(false), Some(false), None));
        assert_eq!(q.kind.as_deref(), Some("warning"));
        assert_eq!(q.priority, None);
        let q = query("all", "", "urgent", Some("c".into()));
        assert_eq!((q.include_read, q.view.as_deref()), (Some(true), None));
        assert_eq!((q.priority.as_deref(), q.after.as_deref(), q.limit), (Some("urgent"), Some("c"), Some(PAGE_SIZE)));
        assert_eq!(query("snoozed", "", "", None).view.as_deref(), Some("snoozed"));
        assert_eq!(query("dismissed", "", "", None).view.as_deref(), Some("dismissed"));
    }
}
