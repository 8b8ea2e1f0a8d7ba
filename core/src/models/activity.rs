//! The activity log: a tenant's append-only audit trail.

use serde::{Deserialize, Serialize};

use super::{ActivityId, TenantId, Timestamp};

/// One entry of a tenant's append-only audit trail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivityEntry {
    pub id: ActivityId,
    pub tenant_id: TenantId,
    /// Who did it: `webhook:orders`, `user:<id>`, `system`.
    pub actor: String,
    /// What happened: `order.created`, `settings.updated`, …
    pub action: String,
    /// The kind of thing it happened to: `order`, `notification`, `tenant`.
    pub entity: String,
    pub entity_id: String,
    #[serde(default)]
    pub details: serde_json::Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_ip: Option<String>,
    pub created_at: Timestamp,
}
