//! Typed identifiers: one type per kind of record, made by one macro.
//!
//! Every id is text on the wire and in the stores (24 hex digits, ObjectId-shaped,
//! for the ids hookbell makes), so each type is a transparent wrapper of a
//! `String`: it serialises as the bare string, reads as `&str` (`Deref`), and
//! compares with strings. What the type adds is that a `TenantId` cannot be
//! passed where a `UserId` is wanted.
//!
//! `From<String>` takes any text (ids read back from a store, or named by a
//! caller and looked up, which finds nothing when malformed); [`TenantId::parse`]
//! (and each type's `parse`) accepts only the ObjectId shape, for input that must
//! have it.

use std::{borrow::Borrow, fmt, ops::Deref};

use serde::{Deserialize, Serialize};

/// Whether `s` has the shape of an id: 24 hex digits (ObjectId-shaped, as every id here).
pub fn is_id(s: &str) -> bool {
    s.len() == 24 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

macro_rules! id_types {
    ($($(#[$meta:meta])* $name:ident;)+) => {$(
        $(#[$meta])*
        #[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// The id if `s` has the ObjectId shape (24 hex digits), in lower
            /// case (the form ids are stored and rooms are named in).
            pub fn parse(s: &str) -> Option<Self> {
                is_id(s).then(|| Self(s.to_ascii_lowercase()))
            }

            /// The id's text.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The id's text, owned.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                Self(s)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_owned())
            }
        }

        impl From<&String> for $name {
            fn from(s: &String) -> Self {
                Self(s.clone())
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl From<&$name> for String {
            fn from(id: &$name) -> String {
                id.0.clone()
            }
        }

        impl Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&self.0, f)
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                &self.0 == other
            }
        }

        impl PartialEq<$name> for String {
            fn eq(&self, other: &$name) -> bool {
                self == &other.0
            }
        }

        impl PartialEq<$name> for &str {
            fn eq(&self, other: &$name) -> bool {
                *self == other.0
            }
        }

        impl PartialEq<$name> for str {
            fn eq(&self, other: &$name) -> bool {
                self == other.0
            }
        }
    )+};
}

id_types! {
    /// A tenant (one business; its webhooks, notifications and members).
    TenantId;
    /// A signed-in user (or the `userId` a notification is addressed to).
    UserId;
    /// A notification.
    NotificationId;
    /// An order.
    OrderId;
    /// An API key (its record id, not its secret or prefix).
    ApiKeyId;
    /// An audit-trail entry.
    ActivityId;
    /// A received webhook request in the event log.
    WebhookEventId;
    /// An invitation to a tenant (its record id, never its link's token).
    InvitationId;
}

impl UserId {
    /// A user as a sender or a program names them: any text (the seed's
    /// `userId` is the sender's own id), trimmed, and an ObjectId-shaped one in
    /// lower case (the form hookbell's own users are in), so one user is one reader.
    pub fn named(s: &str) -> Self {
        let s = s.trim();
        Self::parse(s).unwrap_or_else(|| Self::from(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_transparent_text() {
        let id = TenantId::from("507f1f77bcf86cd799439011");
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"507f1f77bcf86cd799439011\"");
        let back: TenantId = serde_json::from_str("\"507f1f77bcf86cd799439011\"").unwrap();
        assert_eq!(back, id);
        assert_eq!(id, "507f1f77bcf86cd799439011");
        assert_eq!(format!("{id} {id:?}"), "507f1f77bcf86cd799439011 \"507f1f77bcf86cd799439011\"");
        assert_eq!(id.len(), 24);
    }

    #[test]
    fn parse_takes_only_the_object_id_shape() {
        assert!(UserId::parse("507f1f77bcf86cd799439011").is_some());
        assert!(UserId::parse("507f1f77bcf86cd79943901").is_none());
        assert!(UserId::parse("507f1f77bcf86cd79943901z").is_none());
        assert!(UserId::parse("").is_none());
        assert_eq!(UserId::parse("507F1F77BCF86CD799439011").unwrap(), "507f1f77bcf86cd799439011");
        assert_eq!(UserId::named(" 507F1F77BCF86CD799439011 "), "507f1f77bcf86cd799439011");
        assert_eq!(UserId::named(" user_42 "), "user_42");
    }
}
