//! Who may do what: a user's (or an API key's) role in a tenant, and API
//! keys as created and as listed to admins.

use serde::{Deserialize, Serialize};

use super::{ApiKeyId, TenantId, Timestamp};

/// A user's role in a tenant; each role can do what the ones below it can.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads and updates notifications.
    #[default]
    Member,
    /// Also changes webhook settings, rotates secrets, manages API keys.
    Admin,
    /// Also manages users.
    Owner,
}

impl Role {
    pub const ALL: [Role; 3] = [Self::Member, Self::Admin, Self::Owner];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Member => "member",
            Self::Admin => "admin",
            Self::Owner => "owner",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// An API key just created: the only time the key itself is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatedApiKey {
    pub info: ApiKeyInfo,
    pub key: String,
}

/// An API key as listed to admins: never the key itself, only its prefix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyInfo {
    pub id: ApiKeyId,
    pub tenant_id: TenantId,
    pub name: String,
    /// The key's first characters, e.g. `hb_3f9a1c2d`, to recognise it by.
    pub prefix: String,
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    pub created_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<Timestamp>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_by_power() {
        assert!(Role::Owner > Role::Admin && Role::Admin > Role::Member);
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(serde_json::to_string(&Role::Admin).unwrap(), "\"admin\"");
    }
}
