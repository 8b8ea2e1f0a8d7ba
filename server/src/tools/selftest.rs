//! `server selftest`: tells an operator whether a running deployment works,
//! end to end, as the seed's `test-webhook-system` script did. It signs and
//! sends every kind of webhook, checks that bad ones are refused, reads and
//! changes a notification through the REST API, and watches the tenant's
//! Socket.IO room for the matching events. What it creates is marked
//! `{"selftest": true}` and dismissed at the end.

use std::{
    future::Future,
    time::{Duration, Instant},
};

use app::models::{events, NotificationType, PaymentStatus, Priority};
use clap::Args;
use hookbell_sdk::{
    new_webhook_id,
    payloads::{NotificationWebhook, OrderWebhook, PaymentWebhook},
    Endpoint, Sender,
};
use serde::Serialize;
use serde_json::{json, Value};

use super::{socket::LiveClient, Target};

/// How long an event may take to reach the socket.
const EVENT_WAIT: Duration = Duration::from_secs(5);

/// `server selftest …`
#[derive(Debug, Clone, Args)]
pub struct SelftestArgs {
    #[command(flatten)]
    pub target: Target,
    /// An API key of the tenant (member or above), for the notification API and the socket.
    #[arg(long, env = "HOOKBELL_API_KEY", hide_env_values = true)]
    pub api_key: String,
    /// Print the report as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// One line of the report.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub ok: bool,
    pub detail: String,
    pub ms: u64,
}

/// Every check, in the order run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub url: String,
    pub checks: Vec<Check>,
}

impl Report {
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.ok)
    }

    /// The pass/fail table.
    pub fn table(&self) -> String {
        let width = self.checks.iter().map(|c| c.name.len()).max().unwrap_or(0);
        let mut out = format!("hookbell selftest of {}\n", self.url);
        for c in &self.checks {
            let mark = if c.ok { "PASS" } else { "FAIL" };
            out.push_str(&format!("  {mark}  {:<width$}  {:>5} ms  {}\n", c.name, c.ms, c.detail));
        }
        let failed = self.checks.iter().filter(|c| !c.ok).count();
        out.push_str(&format!("{} passed, {failed} failed\n", self.checks.len() - failed));
        out
    }

    /// Runs one step and records it; the step's value when it passed.
    async fn check_with<T>(
        &mut self,
        name: &'static str,
        step: impl Future<Output = Result<(T, String), String>>,
    ) -> Option<T> {
        let started = Instant::now();
        let result = step.await;
        let ms = started.elapsed().as_millis() as u64;
        match result {
            Ok((value, detail)) => {
                self.checks.push(Check { name, ok: true, detail, ms });
                Some(value)
            }
            Err(detail) => {
                self.checks.push(Check { name, ok: false, detail, ms });
                None
            }
        }
    }

    /// [`Self::check_with`] for steps whose value is their description.
    async fn check(
        &mut self,
        name: &'static str,
        step: impl Future<Output = Result<String, String>>,
    ) -> Option<String> {
        self.check_with(name, async { step.await.map(|d| (d.clone(), d)) }).await
    }

    fn skip(&mut self, name: &'static str, why: &str) {
        self.checks.push(Check { name, ok: false, detail: format!("not run: {why}"), ms: 0 });
    }
}

/// What the checks share.
struct Run {
    sender: Sender,
    http: reqwest::Client,
    url: String,
    api_key: String,
    run_id: String,
}

impl Run {
    async fn api(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Result<(u16, Value), String> {
        let mut req = self.http.request(method, format!("{}{path}", self.url)).bearer_auth(&self.api_key);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.map_err(|e| format!("request failed: {e}"))?;
        let status = resp.status().as_u16();
        Ok((status, resp.json().await.unwrap_or(Value::Null)))
    }

    async fn health(&self) -> Result<String, String> {
        let resp = self
            .http
            .get(format!("{}/api/webhooks/health", self.url))
            .send()
            .await
            .map_err(|e| format!("cannot reach the server: {e}"))?;
        let status = resp.status().as_u16();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        match (status, body["status"].as_str()) {
            (200, Some("ok")) => Ok(format!("store {} reachable", body["store"]["kind"].as_str().unwrap_or("?"))),
            _ => Err(format!("HTTP {status}: {body}")),
        }
    }

    async fn connect(&self, tenant: &str) -> Result<(LiveClient, String), String> {
        let watched = [events::NEW_NOTIFICATION, events::NOTIFICATION_UPDATED, events::DASHBOARD_REFRESH];
        let live = LiveClient::connect(&self.url, &watched, Some(json!({ "apiKey": self.api_key })), &[]).await?;
        let ack = live.join(tenant).await?;
        match ack["unreadCount"].as_u64() {
            Some(n) if ack["ok"] == true => Ok((live, format!("joined; {n} unread"))),
            _ => Err(format!("join refused: {ack}")),
        }
    }

    /// This run's order (sent twice: the second time must be a duplicate).
    fn test_order(&self) -> OrderWebhook {
        OrderWebhook {
            order_number: format!("SELFTEST-{}", self.run_id),
            customer_name: Some("hookbell selftest".into()),
            amount_minor: 100,
            metadata: Some(json!({"selftest": true})),
            ..Default::default()
        }
    }

    async fn order(&self) -> Result<String, String> {
        let d = self.sender.order(&self.test_order()).await.map_err(|e| e.to_string())?;
        d.response["orderId"].as_str().map(str::to_owned).ok_or_else(|| format!("no orderId in {}", d.response))
    }

    async fn duplicate_order(&self, order_id: &str) -> Result<String, String> {
        let d = self.sender.order(&self.test_order()).await.map_err(|e| e.to_string())?;
        match (d.response["duplicate"].as_bool(), d.response["orderId"].as_str()) {
            (Some(true), Some(id)) if id == order_id => Ok("answered with the first order".into()),
            _ => Err(format!("a second order was stored: {}", d.response)),
        }
    }

    async fn payment(&self, order_id: &str) -> Result<String, String> {
        let payment = PaymentWebhook {
            order_id: Some(order_id.to_owned()),
            status: PaymentStatus::Paid,
            payment_id: Some(format!("pay_selftest_{}", self.run_id)),
            amount_minor: Some(100),
            metadata: Some(json!({"selftest": true})),
            ..Default::default()
        };
        let d = self.sender.payment(&payment).await.map_err(|e| e.to_string())?;
        Ok(format!("payment recorded ({})", d.response["message"].as_str().unwrap_or("ok")))
    }

    async fn notification(&self) -> Result<String, String> {
        let n = NotificationWebhook {
            title: "hookbell selftest".into(),
            message: format!("Self-test run {}", self.run_id),
            kind: NotificationType::Info,
            priority: Priority::Low,
            metadata: Some(json!({"selftest": true, "run": self.run_id})),
            ..Default::default()
        };
        let d = self.sender.notification(&n).await.map_err(|e| e.to_string())?;
        d.response["notificationId"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("no notificationId in {}", d.response))
    }

    async fn unsigned_refused(&self) -> Result<String, String> {
        let resp = self
            .http
            .post(format!("{}{}", self.url, Endpoint::Notifications.path()))
            .json(&json!({"tenantId": self.sender.tenant_id(), "title": "unsigned", "message": "must be refused"}))
            .send()
            .await
            .map_err(|e| format!("request failed: {e}"))?;
        match resp.status().as_u16() {
            401 => Ok("401 without a signature".into()),
            s => Err(format!("an unsigned webhook got HTTP {s}")),
        }
    }

    async fn invalid_refused(&self) -> Result<String, String> {
        let body = self.sender.body(&json!({"amount": -1})).map_err(|e| e.to_string())?;
        let d = self.sender.deliver(Endpoint::Orders, body, new_webhook_id()).await;
        let fields: Vec<&str> =
            d.response["details"].as_array().into_iter().flatten().filter_map(|f| f["field"].as_str()).collect();
        match d.status() {
            Some(400) if fields.contains(&"orderNumber") && fields.contains(&"amount") => {
                Ok(format!("400 naming {}", fields.join(", ")))
            }
            other => Err(format!("expected 400 naming orderNumber and amount, got {other:?}: {}", d.response)),
        }
    }

    async fn listed(&self, id: &str) -> Result<String, String> {
        let (status, body) = self.api(reqwest::Method::GET, "/api/notifications?limit=200", None).await?;
        let found = body["notifications"].as_array().into_iter().flatten().any(|n| n["id"] == id);
        match (status, found) {
            (200, true) => Ok(format!("listed; {} unread", body["unreadCount"])),
            (200, false) => Err("the new notification is not listed".into()),
            _ => Err(format!("HTTP {status}: {body}")),
        }
    }

    async fn patch(&self, id: &str, change: Value) -> Result<Value, String> {
        let (status, body) =
            self.api(reqwest::Method::PATCH, &format!("/api/notifications/{id}"), Some(change)).await?;
        match status {
            200 => Ok(body),
            _ => Err(format!("HTTP {status}: {body}")),
        }
    }
}

async fn event(live: &mut Option<LiveClient>, name: &str, id: &str, key: &str) -> Result<String, String> {
    let live = live.as_mut().ok_or("the socket is not connected")?;
    let id = id.to_owned();
    let key = key.to_owned();
    live.wait_for(name, EVENT_WAIT, move |v| {
        v["notification"][key.as_str()] == id.as_str() || v["notification"]["metadata"][key.as_str()] == id.as_str()
    })
    .await
    .map(|_| format!("{name} received"))
}

/// Runs every check against the deployment.
pub async fn run(args: &SelftestArgs) -> Report {
    let mut report = Report { url: args.target.url.trim_end_matches('/').to_owned(), checks: Vec::new() };
    let sender = match args.target.sender() {
        Ok(s) => s,
        Err(e) => {
            report.skip("configuration", &e.to_string());
            return report;
        }
    };
    let http = match reqwest::Client::builder().timeout(Duration::from_millis(args.target.timeout_ms)).build() {
        Ok(c) => c,
        Err(e) => {
            report.skip("configuration", &e.to_string());
            return report;
        }
    };
    let run = Run {
        url: report.url.clone(),
        sender,
        http,
        api_key: args.api_key.clone(),
        run_id: new_webhook_id().trim_start_matches("msg_").to_owned(),
    };
    if report.check("health", run.health()).await.is_none() {
        return report;
    }
    let mut live = report.check_with("socket: connect and join-tenant", run.connect(&args.target.tenant)).await;
    let order_id = report.check("order webhook", run.order()).await;
    match &order_id {
        Some(id) => {
            report
                .check(
                    "socket: new-notification for the order",
                    event(&mut live, events::NEW_NOTIFICATION, id, "orderId"),
                )
                .await;
            report
                .check("socket: dashboard-refresh", async {
                    let l = live.as_mut().ok_or("the socket is not connected")?;
                    l.wait_for(events::DASHBOARD_REFRESH, EVENT_WAIT, |_| true)
                        .await
                        .map(|v| format!("reason {}", v["reason"]))
                })
                .await;
            report.check("order webhook is idempotent", run.duplicate_order(id)).await;
            report.check("payment webhook", run.payment(id)).await;
        }
        None => {
            for name in ["socket: new-notification for the order", "order webhook is idempotent", "payment webhook"] {
                report.skip(name, "no order");
            }
        }
    }
    let notification_id = report.check("notification webhook", run.notification()).await;
    report.check("unsigned webhook refused", run.unsigned_refused()).await;
    report.check("invalid webhook refused", run.invalid_refused()).await;
    if let Some(id) = &notification_id {
        report.check("socket: new-notification", event(&mut live, events::NEW_NOTIFICATION, id, "id")).await;
        report.check("notification API: list", run.listed(id)).await;
        report
            .check("notification API: mark read", async {
                let body = run.patch(id, json!({"isRead": true})).await?;
                match body["notification"]["isRead"].as_bool() {
                    Some(true) => Ok(format!("read; {} unread", body["unreadCount"])),
                    _ => Err(format!("not marked read: {body}")),
                }
            })
            .await;
        report.check("socket: notification-updated", event(&mut live, events::NOTIFICATION_UPDATED, id, "id")).await;
        report
            .check("clean-up: dismiss the test notification", async {
                run.patch(id, json!({"isDismissed": true})).await.map(|_| "dismissed".to_owned())
            })
            .await;
    } else {
        report.skip("notification API", "no notification");
    }
    if let Some(l) = &live {
        l.disconnect().await;
    }
    report
}
