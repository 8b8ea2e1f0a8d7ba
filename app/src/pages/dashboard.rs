//! The dashboard: today's order figures (KPI cards), the newest orders and
//! the live activity feed. Fetched by one server function over the same
//! service call as `GET /api/dashboard`, and fetched again — keeping the
//! figures on screen meanwhile — on every `dashboard-refresh`, every new
//! notification and every reconnect.

use leptos::prelude::*;

use super::Unavailable;

use crate::{
    api::get_dashboard,
    components::TimeAgo,
    live::use_live_state,
    models::{format_minor, ActivityEntry, DashboardOverview, Order, OrderStats},
};

/// The tenant's dashboard.
#[component]
pub fn DashboardPage() -> impl IntoView {
    let live = use_live_state();
    // A new notification is news for the activity feed too.
    let overview = Resource::new(move || (live.refresh_tick.get(), live.arrivals.get()), |_| get_dashboard());
    view! {
        <div class="page-head">
            <h1>"Dashboard"</h1>
            <p class="muted">"Today since 00:00 UTC · updates live"</p>
        </div>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok(o) => view! { <Overview o=o/> }.into_any(),
                    Err(e) => view! { <section class="card"><Unavailable what="Dashboard figures" error=e/></section> }
                        .into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Overview(o: DashboardOverview) -> impl IntoView {
    let DashboardOverview { today, recent_orders, activity, .. } = o;
    view! {
        <Kpis today=today/>
        <div class="grid dashboard-grid">
            <section class="card" aria-labelledby="orders-heading">
                <h2 id="orders-heading">"Recent orders"</h2>
                <RecentOrders orders=recent_orders/>
            </section>
            <section class="card" aria-labelledby="activity-heading">
                <h2 id="activity-heading">"Activity"</h2>
                <ActivityFeed entries=activity/>
            </section>
        </div>
    }
}

/// Orders today, revenue today, paid vs pending.
#[component]
fn Kpis(today: OrderStats) -> impl IntoView {
    let revenue = today.revenue.first().map(|t| money(t.amount_minor, &t.currency));
    let others: Vec<String> = today.revenue.iter().skip(1).map(|t| money(t.amount_minor, &t.currency)).collect();
    let settled = today.paid + today.pending;
    let paid_share = (today.paid * 100).checked_div(settled).unwrap_or(0);
    view! {
        <div class="kpis" role="group" aria-label="Today's figures">
            <section class="card kpi" data-testid="kpi-orders">
                <h2 class="kpi-label">"Orders today"</h2>
                <p class="kpi-value">{today.orders}</p>
            </section>
            <section class="card kpi" data-testid="kpi-revenue">
                <h2 class="kpi-label">"Revenue today"</h2>
                <p class="kpi-value">{revenue.unwrap_or_else(|| "0.00".into())}</p>
                <p class="kpi-note">
                    {if others.is_empty() { "Paid orders".to_owned() } else { format!("Also {}", others.join(" · ")) }}
                </p>
            </section>
            <section class="card kpi" data-testid="kpi-payments">
                <h2 class="kpi-label">"Paid vs pending"</h2>
                <p class="kpi-value">
                    <span class="kpi-paid">{today.paid}" paid"</span>" · "
                    <span class="kpi-pending">{today.pending}" pending"</span>
                </p>
                // A <progress>, not a styled bar: the CSP allows no inline styles.
                <progress class="meter" max="100" value=paid_share
                    aria-label=format!("{paid_share}% of today's paid and pending orders are paid")></progress>
            </section>
        </div>
    }
}

#[component]
fn RecentOrders(orders: Vec<Order>) -> impl IntoView {
    if orders.is_empty() {
        return view! {
            <div class="empty" data-testid="orders-empty">
                <p class="empty-title">"No orders yet"</p>
                <p>"Orders arrive as signed webhooks at "<code>"POST /api/webhooks/orders"</code>
                   " and show here, and on the bell, at once."</p>
                <p><a href="/settings/webhooks">"Webhook URLs and secret"</a></p>
            </div>
        }
        .into_any();
    }
    view! {
        <div class="table-wrap">
            <table class="data-table orders" data-testid="recent-orders">
                <thead>
                    <tr><th>"Order"</th><th>"Customer"</th><th class="num">"Amount"</th><th>"Payment"</th><th>"Placed"</th></tr>
                </thead>
                <tbody>
                    {orders
                        .into_iter()
                        .map(|o| {
                            let payment = o.payment_status.as_str();
                            let (number, key) = (o.order_number.clone(), o.order_number);
                            view! {
                                <tr data-order=key>
                                    <td class="strong">{number}</td>
                                    <td>{o.customer_name.unwrap_or_else(|| "—".into())}</td>
                                    <td class="num">{money(o.amount_minor, &o.currency)}</td>
                                    <td><span class=format!("pill pay-{payment}")>{payment}</span></td>
                                    <td><TimeAgo at=o.created_at/></td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
fn ActivityFeed(entries: Vec<ActivityEntry>) -> impl IntoView {
    if entries.is_empty() {
        return view! {
            <div class="empty" data-testid="activity-empty">
                <p class="empty-title">"Nothing has happened yet"</p>
                <p>"Webhooks received and changes made by your team are listed here as they happen."</p>
            </div>
        }
        .into_any();
    }
    view! {
        <ul class="feed" data-testid="activity" aria-live="polite">
            {entries
                .into_iter()
                .map(|a| {
                    let (kind, text) = describe(&a);
                    view! {
                        <li class="feed-item" data-action=a.action.clone()>
                            <span class=format!("dot dot-{kind}") aria-hidden="true"></span>
                            <div class="feed-body">
                                <p class="feed-title">{text}</p>
                                <p class="feed-message">{actor(&a.actor)}</p>
                            </div>
                            <TimeAgo at=a.created_at/>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
    .into_any()
}

/// An activity entry in words, with the colour of its dot.
pub fn describe(a: &ActivityEntry) -> (&'static str, String) {
    let field = |name: &str| a.details.get(name).and_then(|v| v.as_str()).unwrap_or("").to_owned();
    let amount = || match (a.details.get("amountMinor").and_then(|v| v.as_i64()), a.details.get("currency")) {
        (Some(minor), Some(c)) => format!(" · {}", money(minor, c.as_str().unwrap_or(""))),
        _ => String::new(),
    };
    match a.action.as_str() {
        "order.created" => ("success", format!("Order {} placed{}", field("orderNumber"), amount())),
        "payment.updated" => {
            let to = field("to");
            let kind = match to.as_str() {
                "paid" => "success",
                "failed" => "error",
                _ => "warning",
            };
            (kind, format!("Payment for {}: {} → {}", field("orderNumber"), field("from"), to))
        }
        "notification.created" => ("info", format!("Notification: {}", field("title"))),
        "settings.updated" => ("info", "Webhook settings changed".into()),
        "secret.rotated" => ("warning", "Webhook secret rotated".into()),
        "webhook.tested" => ("info", "Test webhook sent".into()),
        "webhook.replayed" => ("info", "Webhook replayed".into()),
        "api_key.created" => ("info", "API key created".into()),
        "api_key.revoked" => ("warning", "API key revoked".into()),
        "member.added" if !field("to").is_empty() => {
            ("success", format!("{} joined as {}", field("email"), field("to")))
        }
        "member.added" => ("info", format!("{} accepted an invitation (already a member)", field("email"))),
        "member.removed" => ("warning", format!("{} removed (was {})", field("email"), field("from"))),
        "member.role_changed" => ("info", format!("{}: {} → {}", field("email"), field("from"), field("to"))),
        "member.left" => ("warning", format!("{} left (was {})", field("email"), field("from"))),
        "invitation.created" => ("info", format!("{} invited as {}", field("email"), field("role"))),
        "invitation.revoked" => ("warning", format!("Invitation of {} revoked", field("email"))),
        other => ("info", other.to_owned()),
    }
}

/// An amount with its currency, in its decimal places: `123.45 EUR`, `1500 JPY`.
fn money(minor: i64, currency: &str) -> String {
    format!("{} {currency}", format_minor(minor, currency))
}

/// Who did it, in words.
fn actor(actor: &str) -> String {
    match actor.split_once(':') {
        Some(("webhook", endpoint)) => format!("Webhook · {endpoint}"),
        Some(("api-key", _)) => "API key".into(),
        Some(("user", "demo")) => "Demo user".into(),
        Some(("user", _)) => "Team member".into(),
        None if actor == "cli" => "Command line".into(),
        _ => "hookbell".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry(action: &str, actor: &str, details: serde_json::Value) -> ActivityEntry {
        ActivityEntry {
            id: "a".into(),
            tenant_id: "t".into(),
            actor: actor.into(),
            action: action.into(),
            entity: "order".into(),
            entity_id: "o".into(),
            details,
            source_ip: None,
            created_at: crate::models::Timestamp::parse("2026-11-29T10:00:00.000Z").unwrap(),
        }
    }

    #[test]
    fn activity_reads_as_sentences() {
        let placed = entry(
            "order.created",
            "webhook:orders",
            json!({"orderNumber": "ORD-7", "amountMinor": 12_345, "currency": "EUR"}),
        );
        assert_eq!(describe(&placed), ("success", "Order ORD-7 placed · 123.45 EUR".into()));
        let failed = entry(
            "payment.updated",
            "webhook:payments",
            json!({"orderNumber": "ORD-7", "from": "pending", "to": "failed"}),
        );
        assert_eq!(describe(&failed), ("error", "Payment for ORD-7: pending → failed".into()));
        assert_eq!(describe(&entry("future.thing", "system", json!({}))).1, "future.thing");
        let changed =
            entry("member.role_changed", "user:1", json!({"email": "ada@x.io", "from": "owner", "to": "admin"}));
        assert_eq!(describe(&changed).1, "ada@x.io: owner → admin");
        let joined = entry("member.added", "user:2", json!({"email": "bo@x.io", "from": null, "to": "member"}));
        assert_eq!(describe(&joined), ("success", "bo@x.io joined as member".into()));
        assert_eq!(actor("webhook:orders"), "Webhook · orders");
        assert_eq!(actor("api-key:abc"), "API key");
        assert_eq!(actor("user:0123"), "Team member");
    }
}
