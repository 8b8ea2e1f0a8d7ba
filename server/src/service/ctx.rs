//! The request context: who is calling, for which tenant, with which role.
//!
//! A caller is an API key (`Authorization: Bearer hb_…`) or, in development
//! only, the demo user, who owns the demo tenant. The seed's `x-tenant-id`
//! header may name the tenant, but only among the caller's own: on its own it
//! grants nothing. Sign-in sessions (identity issue) will be one more principal.

use app::models::{ActivityEntry, Role};
use axum::http::{header, request::Parts};

use super::Services;
use crate::{error::ApiError, ids};

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// The development demo user; exists only in development mode.
    DevDemo,
    /// A tenant's API key.
    ApiKey { key_id: String },
}

impl Principal {
    /// How audit entries name this caller.
    pub fn actor(&self) -> String {
        match self {
            Principal::DevDemo => "user:demo".into(),
            Principal::ApiKey { key_id } => format!("api-key:{key_id}"),
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

impl Services {
    /// Resolves the caller of a dashboard or API request: 401 without one.
    pub async fn resolve_ctx(&self, req: &Parts) -> Result<Ctx, ApiError> {
        let source_ip =
            req.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip().to_string());
        let bearer = req
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(str::trim);
        let mut ctx = match (bearer, self.demo_tenant_id.get()) {
            (Some(key), _) => self.authenticate_api_key(key).await?,
            (None, Some(demo)) if self.config.mode == crate::config::Mode::Development => {
                Ctx { principal: Principal::DevDemo, tenant_id: demo.clone(), role: Role::Owner, source_ip: None }
            }
            _ => return Err(ApiError::Unauthorized("Sign-in or an API key is required")),
        };
        ctx.source_ip = source_ip;
        if let Some(asked) = req.headers.get(TENANT_HEADER) {
            let asked = asked.to_str().unwrap_or("").trim().to_ascii_lowercase();
            if asked != ctx.tenant_id {
                return Err(ApiError::Forbidden("x-tenant-id names a tenant this caller does not belong to".into()));
            }
        }
        Ok(ctx)
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
