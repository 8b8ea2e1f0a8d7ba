//! The request context: who is calling, for which tenant, with which role.
//!
//! A caller is an API key (`Authorization: Bearer hb_…`), a signed-in user
//! (the session cookie) or, in development only and when neither is sent, the
//! demo user, who owns the demo tenant. The seed's `x-tenant-id` header may
//! name the tenant, but only among the caller's own: on its own it grants
//! nothing. A state change authenticated by the cookie must come from an
//! allowed origin (CSRF), on top of the cookie's SameSite=Lax.

use app::models::{ActivityEntry, Role};
use axum::http::{header, request::Parts, HeaderMap};

use super::{
    auth::{SECURE_SESSION_COOKIE, SESSION_COOKIE},
    Services,
};
use crate::{error::ApiError, ids};

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// The development demo user; exists only in development mode.
    DevDemo,
    /// A tenant's API key.
    ApiKey { key_id: String },
    /// A signed-in user.
    User { user_id: String },
}

impl Principal {
    /// How audit entries name this caller.
    pub fn actor(&self) -> String {
        match self {
            Principal::DevDemo => "user:demo".into(),
            Principal::ApiKey { key_id } => format!("api-key:{key_id}"),
            Principal::User { user_id } => format!("user:{user_id}"),
        }
    }
}

/// An authenticated caller and the tenant the request acts on.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub principal: Principal,
    pub tenant_id: String,
    pub role: Role,
    pub source_ip: Option<String>,
}

impl Ctx {
    /// The viewer of per-user notifications: the signed-in user, if any.
    pub fn viewer(&self) -> Option<String> {
        match &self.principal {
            Principal::User { user_id } => Some(user_id.clone()),
            _ => None,
        }
    }

    /// 403 unless the caller's role is at least `needed`.
    pub fn require(&self, needed: Role) -> Result<(), ApiError> {
        if self.role >= needed {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!("This needs the {} role", needed.as_str())))
        }
    }
}

/// The seed's tenant-selecting header.
pub const TENANT_HEADER: &str = "x-tenant-id";

/// The cookie in which a browser remembers the tenant it switched to (development).
pub const TENANT_COOKIE: &str = "hookbell_tenant";
/// Its name in production (see [`SECURE_SESSION_COOKIE`]).
pub const SECURE_TENANT_COOKIE: &str = "__Host-hookbell_tenant";

/// The session cookie's name in this mode.
pub fn session_cookie_name(development: bool) -> &'static str {
    if development {
        SESSION_COOKIE
    } else {
        SECURE_SESSION_COOKIE
    }
}

/// The tenant cookie's name in this mode.
pub fn tenant_cookie_name(development: bool) -> &'static str {
    if development {
        TENANT_COOKIE
    } else {
        SECURE_TENANT_COOKIE
    }
}

/// What a request or socket presented to say who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// `Authorization: Bearer hb_…`, or `{"apiKey": …}` in a socket's auth payload.
    ApiKey(String),
    /// The session cookie.
    Session(String),
    /// Nothing, in development: the demo user.
    DevDemo,
}

impl Credential {
    /// The credential of a request's (or a socket handshake's) headers, and
    /// of a socket's auth payload: an API key first, then the session cookie,
    /// then, in development only, the demo user.
    pub fn from_headers(headers: &HeaderMap, auth: Option<&serde_json::Value>, development: bool) -> Option<Self> {
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(|k| k.trim().to_owned());
        let payload_key = auth.and_then(|a| a.get("apiKey")).and_then(|k| k.as_str()).map(|k| k.trim().to_owned());
        if let Some(key) = bearer.or(payload_key) {
            return Some(Credential::ApiKey(key));
        }
        if let Some(token) = session_cookie(headers, development) {
            return Some(Credential::Session(token));
        }
        development.then_some(Credential::DevDemo)
    }
}

/// An authenticated caller and the tenants it may act on, with its role in each.
#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: Principal,
    /// The viewer for per-user notifications (signed-in users only).
    pub user_id: Option<String>,
    pub tenants: Vec<(String, Role)>,
}

impl Caller {
    /// The caller's role in `tenant_id`, if it belongs there.
    pub fn role_in(&self, tenant_id: &str) -> Option<Role> {
        self.tenants.iter().find(|(t, _)| t == tenant_id).map(|(_, r)| *r)
    }
}

impl Services {
    /// Whether this server runs in development mode.
    pub fn development(&self) -> bool {
        self.config.mode == crate::config::Mode::Development
    }

    /// Who a credential stands for, now: 401 when it is unknown, revoked or expired.
    pub async fn caller(&self, credential: &Credential) -> Result<Caller, ApiError> {
        match credential {
            Credential::ApiKey(key) => {
                let (key_id, tenant_id, role) = self.authenticate_api_key(key).await?;
                Ok(Caller { principal: Principal::ApiKey { key_id }, user_id: None, tenants: vec![(tenant_id, role)] })
            }
            Credential::Session(token) => {
                let (user, memberships) = self
                    .authenticate_session(token)
                    .await?
                    .ok_or(ApiError::Unauthorized("The session has ended; sign in again"))?;
                Ok(Caller {
                    principal: Principal::User { user_id: user.id.clone() },
                    user_id: Some(user.id),
                    tenants: memberships.into_iter().map(|m| (m.tenant_id, m.role)).collect(),
                })
            }
            Credential::DevDemo => match self.demo_tenant_id.get() {
                Some(demo) if self.config.mode == crate::config::Mode::Development => Ok(Caller {
                    principal: Principal::DevDemo,
                    user_id: None,
                    tenants: vec![(demo.clone(), Role::Owner)],
                }),
                _ => Err(ApiError::Unauthorized("Sign-in or an API key is required")),
            },
        }
    }

    /// Resolves the caller of a dashboard or API request: 401 without one.
    pub async fn resolve_ctx(&self, req: &Parts) -> Result<Ctx, ApiError> {
        let asked = req.headers.get(TENANT_HEADER).map(|v| v.to_str().unwrap_or(""));
        self.resolve_ctx_in(req, asked).await
    }

    /// [`Services::resolve_ctx`] acting on `asked` (a tenant id, as `x-tenant-id`
    /// names one): 403 unless it is one of the caller's; without it, the tenant
    /// a signed-in browser chose last, else the caller's first.
    pub async fn resolve_ctx_in(&self, req: &Parts, asked: Option<&str>) -> Result<Ctx, ApiError> {
        let source_ip = source_ip(req);
        let development = self.development();
        let credential = Credential::from_headers(&req.headers, None, development)
            .ok_or(ApiError::Unauthorized("Sign-in or an API key is required"))?;
        if matches!(credential, Credential::Session(_)) && !req.method.is_safe() && !self.origin_allowed(&req.headers) {
            return Err(ApiError::Forbidden("This request's origin may not change anything here".into()));
        }
        let caller = self.caller(&credential).await?;
        let asked = asked.map(|a| a.trim().to_ascii_lowercase());
        // Without the header, a signed-in browser acts on the tenant it chose last (if still its own).
        let chosen = matches!(credential, Credential::Session(_))
            .then(|| cookie(&req.headers, tenant_cookie_name(development)))
            .flatten();
        let (tenant_id, role) = match &asked {
            Some(asked) => caller.tenants.iter().find(|(t, _)| t == asked),
            None => {
                chosen.and_then(|c| caller.tenants.iter().find(|(t, _)| *t == c)).or_else(|| caller.tenants.first())
            }
        }
        .cloned()
        .ok_or_else(|| ApiError::Forbidden("x-tenant-id names a tenant this caller does not belong to".into()))?;
        Ok(Ctx { principal: caller.principal, tenant_id, role, source_ip })
    }

    /// 403 with `message` when `headers` name an `Origin` that is not allowed
    /// (a request without one is left to [`Services::origin_allowed`]'s callers).
    pub fn refuse_foreign_origin(&self, headers: &HeaderMap, message: &str) -> Result<(), ApiError> {
        if headers.contains_key(header::ORIGIN) && !self.origin_allowed(headers) {
            return Err(ApiError::Forbidden(message.to_owned()));
        }
        Ok(())
    }

    /// Whether a cookie-authenticated state change comes from an allowed
    /// origin: this server itself (its Host or `HOOKBELL_PUBLIC_URL`) or a CORS
    /// origin. The `Origin` header decides, else `Referer`; neither refuses.
    pub fn origin_allowed(&self, headers: &HeaderMap) -> bool {
        let origin = match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
            Some(o) => o.to_owned(),
            None => match headers.get(header::REFERER).and_then(|v| v.to_str().ok()).and_then(origin_of) {
                Some(o) => o,
                None => return false,
            },
        };
        let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
        // This server by its Host, with the scheme it is reached by: that of
        // `HOOKBELL_PUBLIC_URL`, else https in production (either in development).
        let schemes: &[&str] = match self.config.public_url.as_deref().and_then(|u| u.split_once("://")) {
            Some(("http", _)) => &["http"],
            Some(_) => &["https"],
            None if self.development() => &["http", "https"],
            None => &["https"],
        };
        schemes.iter().any(|scheme| origin == format!("{scheme}://{host}"))
            || self.config.public_url.as_deref().and_then(origin_of).as_deref() == Some(origin.as_str())
            || self.config.cors_origins().iter().any(|o| o == &origin)
    }

    /// Appends an entry to the caller's tenant's audit trail.
    pub async fn audit(
        &self,
        ctx: &Ctx,
        action: &str,
        entity: &str,
        entity_id: &str,
        details: serde_json::Value,
    ) -> Result<(), ApiError> {
        let entry = ActivityEntry {
            id: ids::new_id(),
            tenant_id: ctx.tenant_id.clone(),
            actor: ctx.principal.actor(),
            action: action.to_owned(),
            entity: entity.to_owned(),
            entity_id: entity_id.to_owned(),
            details,
            source_ip: ctx.source_ip.clone(),
            created_at: ids::now_rfc3339(),
        };
        Ok(self.store.append_activity(&entry).await?)
    }
}

/// The client's address, as the server saw the connection.
pub fn source_ip(req: &Parts) -> Option<String> {
    req.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip().to_string())
}

/// The session token from the `Cookie` header (the cookie's name depends on the mode).
pub fn session_cookie(headers: &HeaderMap, development: bool) -> Option<String> {
    cookie(headers, session_cookie_name(development))
}

/// A non-empty cookie's value from the `Cookie` header.
fn cookie(headers: &HeaderMap, wanted: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == wanted && !value.is_empty())
        .map(|(_, value)| value.to_owned())
}

/// `scheme://host[:port]` of a URL.
fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split(['/', '?', '#']).next()?;
    (!host.is_empty()).then(|| format!("{scheme}://{host}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, "a=1; hookbell_session=hbs_abc; b=2".parse().unwrap());
        assert_eq!(session_cookie(&h, true).as_deref(), Some("hbs_abc"));
        assert_eq!(session_cookie(&h, false), None, "production reads only the __Host- cookie");
        h.insert(header::COOKIE, "__Host-hookbell_session=hbs_x; hookbell_session=hbs_y".parse().unwrap());
        assert_eq!(session_cookie(&h, false).as_deref(), Some("hbs_x"));
        h.insert(header::COOKIE, "hookbell_session=; x=hookbell_session".parse().unwrap());
        assert_eq!(session_cookie(&h, true), None);
    }

    #[test]
    fn origins_of_urls() {
        assert_eq!(origin_of("https://shop.example:8443/x?y").as_deref(), Some("https://shop.example:8443"));
        assert_eq!(origin_of("http://localhost:5173").as_deref(), Some("http://localhost:5173"));
        assert_eq!(origin_of("nonsense"), None);
    }
}
