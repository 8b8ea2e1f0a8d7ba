//! A tenant's team as the dashboard shows it: members, pending invitations,
//! an invitation as its invitee sees it, and a user's own account (sessions,
//! tenants). Never a password, a token or a token's hash.

use serde::{Deserialize, Serialize};

use super::{InvitationId, Role, TenantChoice, TenantId, Timestamp, UserId};

/// A member of a tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberInfo {
    pub user_id: UserId,
    pub email: String,
    pub name: String,
    pub role: Role,
    /// When they joined the tenant.
    pub created_at: Timestamp,
    /// Their last sign-in anywhere; none if never.
    #[serde(default)]
    pub last_sign_in_at: Option<Timestamp>,
}

/// An invitation not yet accepted, revoked or expired.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InvitationInfo {
    pub id: InvitationId,
    pub email: String,
    pub role: Role,
    /// Who invited, as audit entries name them (`user:…`, `api-key:…`, `cli`).
    pub invited_by: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// An invitation just made: the only time its link is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatedInvitation {
    pub invitation: InvitationInfo,
    /// The link to pass on; it holds the invitation's token after `#`.
    pub url: String,
}

/// Settings → Members: the team, the invitations pending, and what the caller may do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MembersView {
    pub members: Vec<MemberInfo>,
    pub invitations: Vec<InvitationInfo>,
    /// The caller's role: owners change roles and remove members; admins invite members and admins.
    pub role: Role,
    /// The caller, if a signed-in user (they cannot remove themselves here: they leave from Account).
    #[serde(default)]
    pub me: Option<UserId>,
}

/// An invitation as the one who opened its link sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InvitationPreview {
    pub tenant_id: TenantId,
    pub tenant_name: String,
    pub email: String,
    pub role: Role,
    pub expires_at: Timestamp,
    /// The email of the user this browser is signed in as, if any.
    #[serde(default)]
    pub signed_in_as: Option<String>,
}

/// One of a user's sessions (a signed-in browser).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionInfo {
    /// Names the session to sign it out (not its token, nor usable as one).
    pub id: String,
    /// The session of this very request.
    pub current: bool,
    /// e.g. "Firefox on Linux", from the browser's User-Agent.
    pub device: String,
    #[serde(default)]
    pub ip: Option<String>,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
}

/// The Account page: who the user is, their sessions and their tenants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountView {
    pub user_id: UserId,
    pub email: String,
    pub name: String,
    /// Live sessions, the most recently used first.
    pub sessions: Vec<SessionInfo>,
    pub tenants: Vec<TenantChoice>,
}

/// A short name of the browser and system a User-Agent describes ("Chrome on
/// macOS"), "Unknown device" when it says nothing recognisable.
pub fn device_of(user_agent: Option<&str>) -> String {
    let ua = user_agent.unwrap_or("");
    let browser = [
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("Chromium/", "Chromium"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
        ("curl/", "curl"),
    ]
    .into_iter()
    .find(|(marker, _)| ua.contains(marker))
    .map(|(_, name)| name);
    let system = [
        ("Android", "Android"),
        ("iPhone", "iOS"),
        ("iPad", "iPadOS"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("CrOS", "ChromeOS"),
        ("Linux", "Linux"),
    ]
    .into_iter()
    .find(|(marker, _)| ua.contains(marker))
    .map(|(_, name)| name);
    match (browser, system) {
        (Some(b), Some(s)) => format!("{b} on {s}"),
        (Some(b), None) => b.to_owned(),
        (None, Some(s)) => format!("A browser on {s}"),
        (None, None) => "Unknown device".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_are_named_from_user_agents() {
        let chrome =
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36";
        assert_eq!(device_of(Some(chrome)), "Chrome on Linux");
        let ff = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.1; rv:121.0) Gecko/20100101 Firefox/121.0";
        assert_eq!(device_of(Some(ff)), "Firefox on macOS");
        let edge = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0 Safari/537.36 Edg/120.0";
        assert_eq!(device_of(Some(edge)), "Edge on Windows");
        assert_eq!(device_of(Some("curl/8.5.0")), "curl");
        assert_eq!(device_of(None), "Unknown device");
    }
}
