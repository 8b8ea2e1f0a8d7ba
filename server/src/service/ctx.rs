//! The request context: who is calling, for which tenant, with which role.
//!
//! A caller is an API key (`Authorization: Bearer hb_…`), a signed-in user
//! (the session cookie) or, in development only and when neither is sent, the
//! demo user, who owns the demo tenant. The seed's `x-tenant-id` header may
//! name the tenant, but only among the caller's own: on its own it grants
//! nothing. A state change authenticated by the cookie must come from an
//! allowed origin (CSRF), on top of the cookie's SameSite=Lax.

use app::models::{ActivityEntry, ApiKeyId, Role, TenantId, UserId};

use super::Services;
use crate::{error::ApiError, ids};

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// The development demo user; exists only in development mode.
    DevDemo,
    /// A tenant's API key.
    ApiKey { key_id: ApiKeyId },
    /// A signed-in user.
    User { user_id: UserId },
}

impl Principal {
    /// Every open socket of this caller (all their tabs, in every tenant).
    pub fn sockets(&self) -> super::Sockets<'_> {
        match self {
            Principal::DevDemo => super::Sockets::Demo,
            Principal::ApiKey { key_id } => super::Sockets::ApiKey(key_id),
            Principal::User { user_id } => super::Sockets::User(user_id),
        }
    }

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
    pub tenant_id: TenantId,
    pub role: Role,
    pub source_ip: Option<String>,
}

impl Ctx {
    /// The viewer of per-user notifications: the signed-in user, if any.
    pub fn viewer(&self) -> Option<UserId> {
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

/// A signed-in user acting on their own account, in no tenant (see
/// [`Services::resolve_user_ctx`]): it has no tenant to act on by mistake.
#[derive(Debug, Clone)]
pub struct UserCtx {
    pub user_id: UserId,
    pub source_ip: Option<String>,
}

impl UserCtx {
    /// How audit entries name this user.
    pub fn actor(&self) -> String {
        Principal::User { user_id: self.user_id.clone() }.actor()
    }
}

/// What a request or socket presented to say who it is (its `Debug` shows
/// the kind, never the key or token).
#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    /// `Authorization: Bearer hb_…`, or `{"apiKey": …}` in a socket's auth payload.
    ApiKey(String),
    /// The session cookie.
    Session(String),
    /// Nothing, in development: the demo user.
    DevDemo,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Credential::ApiKey(_) => "ApiKey(<redacted>)",
            Credential::Session(_) => "Session(<redacted>)",
            Credential::DevDemo => "DevDemo",
        })
    }
}

/// What a request (or a socket handshake) presented, as the web layer read
/// it from the headers: the service layer sees no HTTP types. Its `Debug`
/// leaves out the session token.
#[derive(Clone, Default)]
pub struct Presented {
    pub credential: Option<Credential>,
    /// The method changes state (not GET, HEAD, OPTIONS or TRACE).
    pub changes_state: bool,
    /// An `Origin` header was sent (`origin` is its text, if it is text).
    pub origin_sent: bool,
    pub origin: Option<String>,
    pub referer: Option<String>,
    /// The `Host` the client asked for.
    pub host: Option<String>,
    /// The tenant the seed's `x-tenant-id` names.
    pub tenant_asked: Option<String>,
    /// The tenant the browser chose last (its tenant cookie).
    pub tenant_chosen: Option<String>,
    /// The browser's session token (its session cookie), whatever the credential.
    pub session_token: Option<String>,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    /// The scheme the client reached a trusted reverse proxy by (`X-Forwarded-Proto`), if one said.
    pub forwarded_proto: Option<&'static str>,
}

impl std::fmt::Debug for Presented {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Presented")
            .field("credential", &self.credential)
            .field("changes_state", &self.changes_state)
            .field("origin", &self.origin)
            .field("host", &self.host)
            .field("tenant_asked", &self.tenant_asked)
            .field("session_token", &self.session_token.as_ref().map(|_| "<redacted>"))
            .field("source_ip", &self.source_ip)
            .finish_non_exhaustive()
    }
}

/// An authenticated caller and the tenants it may act on, with its role in each.
#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: Principal,
    /// The viewer for per-user notifications (signed-in users only).
    pub user_id: Option<UserId>,
    pub tenants: Vec<(TenantId, Role)>,
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
    pub async fn resolve_ctx(&self, req: &Presented) -> Result<Ctx, ApiError> {
        self.resolve_ctx_in(req, req.tenant_asked.as_deref()).await
    }

    /// [`Services::resolve_ctx`] acting on `asked` (a tenant id, as `x-tenant-id`
    /// names one): 403 unless it is one of the caller's; without it, the tenant
    /// a signed-in browser chose last, else the caller's first.
    pub async fn resolve_ctx_in(&self, req: &Presented, asked: Option<&str>) -> Result<Ctx, ApiError> {
        let credential = req.credential.clone().ok_or(ApiError::Unauthorized("Sign-in or an API key is required"))?;
        if matches!(credential, Credential::Session(_)) && req.changes_state && !self.origin_allowed(req) {
            return Err(ApiError::Forbidden("This request's origin may not change anything here".into()));
        }
        let caller = self.caller(&credential).await?;
        let asked = asked.map(|a| a.trim().to_ascii_lowercase());
        // Without the header, a signed-in browser acts on the tenant it chose last (if still its own).
        let chosen = matches!(credential, Credential::Session(_)).then_some(req.tenant_chosen.as_deref()).flatten();
        let (tenant_id, role) = match &asked {
            Some(asked) => caller.tenants.iter().find(|(t, _)| t == asked),
            None => chosen.and_then(|c| caller.tenants.iter().find(|(t, _)| t == c)).or_else(|| caller.tenants.first()),
        }
        .cloned()
        .ok_or_else(|| ApiError::Forbidden("x-tenant-id names a tenant this caller does not belong to".into()))?;
        Ok(Ctx { principal: caller.principal, tenant_id, role, source_ip: req.source_ip.clone() })
    }

    /// The signed-in user of a request to their own account (`/api/me/account`,
    /// the password, sessions, leaving, signing out everywhere): 401 without a
    /// live session, 403 for API keys and the demo. A user who belongs to no
    /// tenant any more (they left or were removed) still reaches their account;
    /// `x-tenant-id` plays no part.
    pub async fn resolve_user_ctx(&self, req: &Presented) -> Result<UserCtx, ApiError> {
        let credential = req.credential.clone().ok_or(ApiError::Unauthorized("Sign-in or an API key is required"))?;
        if matches!(credential, Credential::Session(_)) && req.changes_state && !self.origin_allowed(req) {
            return Err(ApiError::Forbidden("This request's origin may not change anything here".into()));
        }
        match self.caller(&credential).await?.principal {
            Principal::User { user_id } => Ok(UserCtx { user_id, source_ip: req.source_ip.clone() }),
            _ => Err(ApiError::Forbidden("Only a signed-in user has an account".into())),
        }
    }

    /// 403 with `message` when the request names an `Origin` that is not allowed
    /// (a request without one is left to [`Services::origin_allowed`]'s callers).
    pub fn refuse_foreign_origin(&self, req: &Presented, message: &str) -> Result<(), ApiError> {
        if req.origin_sent && !self.origin_allowed(req) {
            return Err(ApiError::Forbidden(message.to_owned()));
        }
        Ok(())
    }

    /// Whether a cookie-authenticated state change comes from an allowed
    /// origin: this server itself (its Host or `HOOKBELL_PUBLIC_URL`) or a CORS
    /// origin. The `Origin` header decides, else `Referer`; neither refuses.
    pub fn origin_allowed(&self, req: &Presented) -> bool {
        let origin = match (&req.origin, req.referer.as_deref().and_then(origin_of)) {
            (Some(o), _) => o.clone(),
            (None, Some(o)) => o,
            (None, None) => return false,
        };
        let host = req.host.as_deref().unwrap_or("");
        // This server by its Host, with the scheme it is reached by: that of
        // `HOOKBELL_PUBLIC_URL`, else https in production (either in development;
        // a forwarded scheme never lowers production's).
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
        let actor = ctx.principal.actor();
        self.audit_as((&ctx.tenant_id, &actor, ctx.source_ip.clone()), action, entity, entity_id, details).await
    }

    /// Appends an entry to a tenant's audit trail for `(tenant, actor, source address)`.
    pub async fn audit_as(
        &self,
        (tenant_id, actor, source_ip): (&TenantId, &str, Option<String>),
        action: &str,
        entity: &str,
        entity_id: &str,
        details: serde_json::Value,
    ) -> Result<(), ApiError> {
        let entry = ActivityEntry {
            id: ids::new_id(),
            tenant_id: tenant_id.clone(),
            actor: actor.to_owned(),
            action: action.to_owned(),
            entity: entity.to_owned(),
            entity_id: entity_id.to_owned(),
            details,
            source_ip,
            created_at: ids::now(),
        };
        Ok(self.store.append_activity(&entry).await?)
    }
}

/// `scheme://host[:port]` of a URL.
pub fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split(['/', '?', '#']).next()?;
    (!host.is_empty()).then(|| format!("{scheme}://{host}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_stay_out_of_debug_output() {
        let p = Presented {
            credential: Some(Credential::Session("hbs_secret_token".into())),
            session_token: Some("hbs_secret_token".into()),
            ..Default::default()
        };
        let text = format!("{p:?} {:?}", Credential::ApiKey("hb_12345678_secret".into()));
        assert!(!text.contains("secret"), "{text}");
    }

    #[test]
    fn origins_of_urls() {
        assert_eq!(origin_of("https://shop.example:8443/x?y").as_deref(), Some("https://shop.example:8443"));
        assert_eq!(origin_of("http://localhost:5173").as_deref(), Some("http://localhost:5173"));
        assert_eq!(origin_of("nonsense"), None);
    }
}
