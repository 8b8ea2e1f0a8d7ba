//! The request context: who is calling, and for which tenant.
//!
//! Until sign-in exists (identity issue) the only principal is the
//! development demo user, who sees the demo tenant; in production every
//! dashboard request is refused. Sign-in will add principals here, and the
//! handlers that take a `Ctx` stay as they are.

use crate::error::ApiError;

use super::Services;

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// The development demo user (no sign-in yet); exists only in development mode.
    DevDemo,
}

/// An authenticated caller and the tenant the request acts on.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub principal: Principal,
    pub tenant_id: String,
}

impl Services {
    /// Resolves the caller of a dashboard request.
    pub fn resolve_ctx(&self, _req: &axum::http::request::Parts) -> Result<Ctx, ApiError> {
        match self.demo_tenant_id.get() {
            Some(tenant_id) if self.config.mode == crate::config::Mode::Development => {
                Ok(Ctx { principal: Principal::DevDemo, tenant_id: tenant_id.clone() })
            }
            _ => Err(ApiError::Unauthorized("Sign-in is required")),
        }
    }
}
