//! A team over REST, on both stores: who may invite whom, the answer that
//! says nothing of whether an email has an account, an invitation accepted
//! once (by a new user, an existing one, or one signed in already) until it
//! expires or is revoked, role changes and removals under the last-owner rule
//! (also at the same instant), leaving a tenant, the account's sessions and
//! password, and every change in the audit trail, shown to admins only.

use app::models::Role;
use reqwest::{header, Method};
use serde_json::{json, Value};

use crate::harness::TestServer;

pub(super) const PASSWORD: &str = "correct horse battery";

/// Runs a test body against a production-mode server on SQLite and on MongoDB.
macro_rules! both_stores {
    ($($name:ident),* $(,)?) => {
        mod sqlite_store {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() { super::$name(super::super::start_server(None).await).await }
            )*
        }
        mod mongo_store {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() { super::$name(super::super::start_server(Some(crate::mongo_server::fresh_mongo_uri())).await).await }
            )*
        }
    };
}

mod account;
mod invitations;

pub(super) async fn start_server(mongo: Option<String>) -> TestServer {
    let key = server::sealing::Sealer::generate_key();
    let mut vars = vec![("HOOKBELL_ENV", "production".to_owned()), ("HOOKBELL_SECRET_KEY", key)];
    if let Some(uri) = mongo {
        vars.push(("MONGODB_URI", uri));
    }
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    TestServer::start_with(&vars).await
}

/// A browser: its cookies (session, chosen tenant), sent with this server's own `Origin`.
#[derive(Clone, Default)]
pub(super) struct Browser {
    pub(super) cookies: Vec<(String, String)>,
}

impl Browser {
    pub(super) fn anonymous() -> Self {
        Self::default()
    }

    pub(super) async fn signed_in(srv: &TestServer, email: &str) -> Self {
        let signed_in = srv.services.login(email, PASSWORD, None, Some("Firefox/121.0 (X11; Linux)".into())).await;
        Self { cookies: vec![("__Host-hookbell_session".into(), signed_in.unwrap().token)] }
    }

    /// The `Cookie` header this browser sends.
    pub(super) fn cookie(&self) -> Option<String> {
        (!self.cookies.is_empty())
            .then(|| self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; "))
    }

    pub(super) async fn send(
        &self,
        srv: &TestServer,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value, Self) {
        let mut req = srv.http.request(method, srv.url(path)).header(header::ORIGIN, format!("https://{}", srv.addr));
        if let Some(cookie) = self.cookie() {
            req = req.header(header::COOKIE, cookie);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        // Cookies set replace this browser's (an empty one clears it).
        let mut after = self.clone();
        for set in resp.headers().get_all(header::SET_COOKIE).iter().filter_map(|v| v.to_str().ok()) {
            let (name, value) = set.split(';').next().unwrap().split_once('=').unwrap();
            after.cookies.retain(|(k, _)| k != name);
            if !value.is_empty() {
                after.cookies.push((name.to_owned(), value.to_owned()));
            }
        }
        (status, resp.json().await.unwrap_or(Value::Null), after)
    }
}

/// A tenant with an owner (Olga, signed in), an admin (Ada) and a member (Mo).
pub(super) struct Team {
    pub(super) tenant: app::models::TenantId,
    pub(super) owner: Browser,
    pub(super) admin: Browser,
    pub(super) member: Browser,
}

pub(super) async fn team(srv: &TestServer) -> Team {
    let tenant = srv.tenant("Shop").await.tenant.id;
    let slug = tenant.as_str().get(..8).unwrap().to_owned();
    let mut browsers = Vec::new();
    for (who, role) in [("olga", Role::Owner), ("ada", Role::Admin), ("mo", Role::Member)] {
        let email = format!("{who}-{slug}@example.com");
        srv.services.add_user_to_tenant(&tenant, &email, who, PASSWORD, role).await.unwrap();
        browsers.push(Browser::signed_in(srv, &email).await);
    }
    let member = browsers.pop().unwrap();
    let admin = browsers.pop().unwrap();
    let owner = browsers.pop().unwrap();
    Team { tenant, owner, admin, member }
}

/// The token in an invitation's link.
pub(super) fn token_of(created: &Value) -> String {
    let url = created["url"].as_str().unwrap();
    url.split_once("/invite#").unwrap().1.to_owned()
}

pub(super) async fn invite(srv: &TestServer, by: &Browser, email: &str, role: &str) -> (u16, Value) {
    let (status, body, _) =
        by.send(srv, Method::POST, "/api/members", Some(json!({"email": email, "role": role}))).await;
    (status, body)
}
