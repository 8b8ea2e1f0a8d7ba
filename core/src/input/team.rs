//! What a team's owners and members send: invitations, role changes,
//! accepting an invitation and a user's new password.

use serde_json::{Map, Value};

use super::{
    fields::{is_email, plain_text, unknown_field},
    FromJson,
};
use crate::models::{FieldError, Role};

/// Longest email accepted (RFC 5321's path limit).
pub const MAX_EMAIL_BYTES: usize = 254;

fn role_field(map: &Map<String, Value>, default: Option<Role>) -> Result<Role, Vec<FieldError>> {
    let bad = || vec![FieldError::new("role", "must be member, admin or owner")];
    match map.get("role") {
        None | Some(Value::Null) => default.ok_or_else(bad),
        Some(Value::String(r)) => Role::parse(r).ok_or_else(bad),
        Some(_) => Err(bad()),
    }
}

/// An email address as hookbell keeps it: trimmed and lowercased, at most
/// 254 bytes, with one `@` and a dotted domain.
pub fn parse_email(text: &str) -> Result<String, FieldError> {
    let email = text.trim().to_lowercase();
    if email.is_empty() {
        Err(FieldError::new("email", "is required"))
    } else if email.len() > MAX_EMAIL_BYTES || !is_email(&email) {
        Err(FieldError::new("email", "must be an email address of at most 254 bytes"))
    } else {
        Ok(email)
    }
}

/// An invitation to a tenant (`POST /api/members`): who, with which role
/// (default member). The invitee chooses their own name and password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewInvitation {
    /// Lowercased.
    pub email: String,
    pub role: Role,
}

impl NewInvitation {
    /// The invitation of `email` with `role` (text, as a form sends it; none is member).
    pub fn new(email: &str, role: Option<&str>) -> Result<Self, Vec<FieldError>> {
        let mut map = Map::new();
        map.insert("email".into(), email.into());
        if let Some(role) = role {
            map.insert("role".into(), role.into());
        }
        Self::from_json(&map)
    }
}

impl FromJson for NewInvitation {
    fn from_json(map: &Map<String, Value>) -> Result<Self, Vec<FieldError>> {
        if map.contains_key("password") {
            let why = "is not taken: the invitee chooses their own when they accept the invitation";
            return Err(vec![FieldError::new("password", why)]);
        }
        unknown_field(map, &["email", "role", "name"], "is not a known field")?;
        let mut errors = Vec::new();
        let email = plain_text(map, "email").map_err(|mut e| errors.append(&mut e)).ok().map(parse_email);
        let email = match email {
            Some(Ok(email)) => Some(email),
            Some(Err(e)) => {
                errors.push(e);
                None
            }
            None => None,
        };
        let role = role_field(map, Some(Role::Member)).map_err(|mut e| errors.append(&mut e)).ok();
        match (email, role) {
            (Some(email), Some(role)) if errors.is_empty() => Ok(Self { email, role }),
            _ => Err(errors),
        }
    }
}

/// A member's new role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoleChange {
    pub role: Role,
}

impl FromJson for RoleChange {
    fn from_json(map: &Map<String, Value>) -> Result<Self, Vec<FieldError>> {
        unknown_field(map, &["role"], "is not a known field")?;
        Ok(Self { role: role_field(map, None)? })
    }
}

/// Accepting an invitation: its token, and either a new account (`name` and
/// `password`) or the password of the invitee's existing account.
#[derive(Clone, PartialEq, Eq)]
pub struct AcceptInvitation {
    pub token: String,
    /// Given for a new account: the name it shows.
    pub name: Option<String>,
    pub password: String,
}

impl FromJson for AcceptInvitation {
    fn from_json(map: &Map<String, Value>) -> Result<Self, Vec<FieldError>> {
        unknown_field(map, &["token", "name", "password"], "is not a known field")?;
        let token = plain_text(map, "token")?.trim().to_owned();
        if token.is_empty() {
            return Err(vec![FieldError::new("token", "is required")]);
        }
        let name = plain_text(map, "name")?.trim();
        let name = (!name.is_empty()).then(|| name.to_owned());
        Ok(Self { token, name, password: plain_text(map, "password")?.to_owned() })
    }
}

/// An invitation's token, to see what it invites to (`{token}`).
#[derive(Clone, PartialEq, Eq)]
pub struct InvitationToken {
    pub token: String,
}

impl FromJson for InvitationToken {
    fn from_json(map: &Map<String, Value>) -> Result<Self, Vec<FieldError>> {
        unknown_field(map, &["token"], "is not a known field")?;
        let token = plain_text(map, "token")?.trim().to_owned();
        if token.is_empty() {
            return Err(vec![FieldError::new("token", "is required")]);
        }
        Ok(Self { token })
    }
}

/// A user's new password, with the current one that proves it is them.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

impl FromJson for PasswordChange {
    fn from_json(map: &Map<String, Value>) -> Result<Self, Vec<FieldError>> {
        unknown_field(map, &["currentPassword", "newPassword"], "is not a known field")?;
        let mut errors = Vec::new();
        let mut read = |field: &str| match plain_text(map, field) {
            Ok("") => {
                errors.push(FieldError::new(field, "is required"));
                String::new()
            }
            Ok(text) => text.to_owned(),
            Err(mut e) => {
                errors.append(&mut e);
                String::new()
            }
        };
        let (current_password, new_password) = (read("currentPassword"), read("newPassword"));
        if errors.is_empty() {
            Ok(Self { current_password, new_password })
        } else {
            Err(errors)
        }
    }
}

// Passwords and tokens never reach a log through `{:?}`.
impl std::fmt::Debug for AcceptInvitation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AcceptInvitation").field("name", &self.name).finish_non_exhaustive()
    }
}

impl std::fmt::Debug for PasswordChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordChange").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn invitations_name_their_bad_fields() {
        let ok = NewInvitation::from_json(&map(json!({"email": " Ada@Example.COM ", "role": "admin"}))).unwrap();
        assert_eq!(ok, NewInvitation { email: "ada@example.com".into(), role: Role::Admin });
        assert_eq!(NewInvitation::new("b@c.de", None).unwrap().role, Role::Member);
        let fields = |v: Value| -> Vec<String> {
            NewInvitation::from_json(&map(v)).unwrap_err().into_iter().map(|e| e.field).collect()
        };
        assert_eq!(fields(json!({"email": 1})), ["email"]);
        assert_eq!(fields(json!({"email": "nope", "role": "king"})), ["email", "role"]);
        assert_eq!(fields(json!({})), ["email"]);
        assert_eq!(fields(json!({"email": format!("{}@x.io", "a".repeat(250))})), ["email"]);
        assert_eq!(fields(json!({"email": "a@b.co", "password": "secret123"})), ["password"]);
        assert_eq!(fields(json!({"email": "a@b.co", "isOwner": true})), ["isOwner"]);
        assert!(RoleChange::from_json(&map(json!({}))).is_err());
    }

    #[test]
    fn accepting_and_password_changes_keep_secrets_out_of_debug_output() {
        let a = AcceptInvitation::from_json(&map(json!({"token": "hbi_x", "password": "hunter22hunter"}))).unwrap();
        assert_eq!(a.name, None);
        let p = PasswordChange::from_json(&map(json!({"currentPassword": "hunter22a", "newPassword": "hunter22b"})));
        let text = format!("{a:?} {:?}", p.unwrap());
        assert!(!text.contains("hunter22") && !text.contains("hbi_x"), "{text}");
        assert_eq!(AcceptInvitation::from_json(&map(json!({"password": "x"}))).unwrap_err()[0].field, "token");
        let fields: Vec<String> = PasswordChange::from_json(&map(json!({"newPassword": 5})))
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["currentPassword", "newPassword"]);
    }
}
