//! Users and sign-in: argon2id passwords, sessions kept in the store, and
//! the limits on failed logins.
//!
//! A session token is 32 random bytes, given to the browser once in an
//! HttpOnly cookie; the store keeps only its HMAC-SHA256 under the session key
//! (`SESSION_SECRET`, else a key derived from the sealing key), so a leaked
//! database opens no sessions. Sessions expire when idle and absolutely, and
//! can be revoked. A failed login never says whether the email exists, and
//! costs the same time either way.

use std::{sync::OnceLock, time::Duration};

use app::models::{Role, TenantChoice, TenantId, Timestamp, UserId};
use argon2::{
    password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Argon2,
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use hmac::{Hmac, Mac};
use rand::{rngs::OsRng, TryRngCore};
use sha2::Sha256;

use super::{ctx::Presented, push::Sockets, Services};
use crate::{
    error::{ApiError, FieldError},
    ids,
    service::webhooks::is_email,
    store::{Membership, Session, User},
};

/// How long a session lives without use.
pub const SESSION_IDLE: Duration = Duration::from_secs(12 * 3600);
/// How long a session lives at most.
pub const SESSION_MAX: Duration = Duration::from_secs(7 * 86_400);
/// A session's idle expiry is moved forward at most this often (one write per minute, not per request).
const TOUCH_EVERY: Duration = Duration::from_secs(60);
/// Longest password accepted (argon2 cost is per byte; this bounds it).
const MAX_PASSWORD_BYTES: usize = 1024;
/// Longest email accepted (RFC 5321's path limit).
pub const MAX_EMAIL_BYTES: usize = 254;
/// Shortest password accepted for new users.
const MIN_PASSWORD_CHARS: usize = 8;

/// The message of every failed login.
const BAD_LOGIN: &str = "Invalid email or password";

/// A signed-in user: the session's token (for the cookie) and who it is.
pub struct SignedIn {
    pub token: String,
    pub user: User,
    pub memberships: Vec<Membership>,
    pub expires_at: Timestamp,
}

/// A user as others may see them (never a password hash).
#[derive(Debug, Clone, serde::Serialize)]
pub struct UserView {
    pub id: UserId,
    pub email: String,
    pub name: String,
}

/// Who is calling (`GET /api/auth/me`).
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallerView {
    pub principal: String,
    pub user: Option<UserView>,
    pub tenant_id: TenantId,
    pub role: Role,
    pub tenants: Vec<TenantChoice>,
}

/// A user just added to a tenant.
#[derive(Debug)]
pub struct AddedUser {
    pub user: User,
    /// The user was new (else an existing user got the membership).
    pub created: bool,
    pub membership: Membership,
}

/// 32 random bytes from the operating system, URL-safe, after `prefix` (`hbs_` sessions, `hbi_` invitations).
pub(super) fn random_token_with(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    OsRng.try_fill_bytes(&mut bytes).expect("the operating system's random source failed");
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

fn random_token() -> String {
    random_token_with("hbs_")
}

/// Hashes a password with argon2id (the crate's defaults: 19 MiB, 2 passes) and a random salt.
pub fn hash_password(password: &str) -> Result<String, ApiError> {
    let mut salt = [0u8; 16];
    OsRng.try_fill_bytes(&mut salt).expect("the operating system's random source failed");
    let salt = SaltString::encode_b64(&salt).map_err(|e| ApiError::Internal(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ApiError::Internal(format!("argon2: {e}")))
}

/// Checks a password against a PHC string (constant time inside argon2).
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// A hash to verify against when the email is unknown, so both cases cost the same.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_password("not a real password, only spends the same time").unwrap_or_default())
}

/// A display name: trimmed, 1 to 100 characters.
pub(super) fn check_name(name: &str) -> Result<String, ApiError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::Validation(vec![FieldError::new("name", "must be 1 to 100 characters")]));
    }
    Ok(name.to_owned())
}

pub(super) fn check_password_rules(password: &str) -> Result<(), ApiError> {
    if password.chars().count() < MIN_PASSWORD_CHARS || password.len() > MAX_PASSWORD_BYTES {
        return Err(ApiError::Validation(vec![FieldError::new("password", "must be 8 characters to 1024 bytes")]));
    }
    Ok(())
}

impl Services {
    /// The store's key for a session token.
    pub fn session_token_hash(&self, token: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.session_key).expect("HMAC takes any key length");
        mac.update(token.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// Adds a user (new, with `password`) or an existing user (password
    /// unchanged) to a tenant with `role`.
    pub async fn add_user_to_tenant(
        &self,
        tenant_id: &str,
        email: &str,
        name: &str,
        password: &str,
        role: Role,
    ) -> Result<AddedUser, ApiError> {
        let email = email.trim().to_lowercase();
        if !is_email(&email) {
            return Err(ApiError::Validation(vec![FieldError::new("email", "must be an email address")]));
        }
        let tenant_id = TenantId::from(tenant_id);
        if self.store.get_tenant(&tenant_id).await?.is_none() {
            return Err(ApiError::NotFound("Tenant"));
        }
        let (user, created) = match self.store.get_user_by_email(&email).await? {
            Some(user) => (user, false),
            None => {
                let user = self.new_user(ids::new_id(), email, name, password).await?;
                self.store.insert_user(&user).await?;
                (user, true)
            }
        };
        let membership = Membership { tenant_id, user_id: user.id.clone(), role, created_at: ids::now() };
        self.store.set_membership(&membership).await?;
        Ok(AddedUser { user, created, membership })
    }

    /// A new user (not yet stored) with `id`, once `name` and `password` pass
    /// the rules: the password hashed with argon2id, its check waiting its turn.
    pub(super) async fn new_user(
        &self,
        id: UserId,
        email: String,
        name: &str,
        password: &str,
    ) -> Result<User, ApiError> {
        check_password_rules(password)?;
        let name = check_name(name)?;
        let password_hash = self.hash_in_turn(password).await?;
        Ok(User { id, email, name, password_hash, created_at: ids::now(), last_sign_in_at: None })
    }

    /// Hashes `password` on the blocking pool, through the password gate (503 when it is full).
    pub(super) async fn hash_in_turn(&self, password: &str) -> Result<String, ApiError> {
        let pw = password.to_owned();
        let Some(_pass) = self.password_gate.enter().await else {
            return Err(ApiError::Busy(1));
        };
        tokio::task::spawn_blocking(move || hash_password(&pw)).await.map_err(|e| ApiError::Internal(e.to_string()))?
    }

    /// Whether `password` is that of `phc`, checked on the blocking pool through the password gate.
    pub(super) async fn verify_in_turn(&self, password: &str, phc: &str) -> Result<bool, ApiError> {
        let (pw, phc) = (password.to_owned(), phc.to_owned());
        let Some(_pass) = self.password_gate.enter().await else {
            return Err(ApiError::Busy(1));
        };
        tokio::task::spawn_blocking(move || verify_password(&pw, &phc))
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))
    }

    /// Signs a user in: a new session (a fresh token every time), or 401 with
    /// one message whatever was wrong. Attempts are limited per email and per
    /// address (429 with Retry-After).
    pub async fn login(
        &self,
        email: &str,
        password: &str,
        ip: Option<String>,
        user_agent: Option<String>,
    ) -> Result<SignedIn, ApiError> {
        let user = self.check_login(email, password, ip.as_deref()).await?;
        self.open_session(user, ip, user_agent).await
    }

    /// The user whose email and password these are, checked as [`Services::login`]
    /// checks them (limits, one message), without opening a session.
    pub(super) async fn check_login(&self, email: &str, password: &str, ip: Option<&str>) -> Result<User, ApiError> {
        let checked = self.check_login_once(email, password, ip).await;
        if let Err(e) = &checked {
            crate::telemetry::login_failure(e.code());
        }
        checked
    }

    async fn check_login_once(&self, email: &str, password: &str, ip: Option<&str>) -> Result<User, ApiError> {
        // The address's bucket first: a flood of made-up emails from one
        // address is refused before any per-email state exists.
        self.login_limiter_ip.check(&super::rate_limit::address_key(ip)).await.map_err(ApiError::rate_limited)?;
        let email = email.trim().to_lowercase();
        let mut details = Vec::new();
        if email.is_empty() {
            details.push(FieldError::new("email", "is required"));
        } else if email.len() > MAX_EMAIL_BYTES || !is_email(&email) {
            details.push(FieldError::new("email", "must be an email address of at most 254 bytes"));
        }
        if password.is_empty() {
            details.push(FieldError::new("password", "is required"));
        } else if password.len() > MAX_PASSWORD_BYTES {
            details.push(FieldError::new("password", "must be at most 1024 bytes"));
        }
        if !details.is_empty() {
            return Err(ApiError::Validation(details));
        }
        self.login_limiter_email.check(&email).await.map_err(ApiError::rate_limited)?;
        let user = self.store.get_user_by_email(&email).await?;
        let phc = user.as_ref().map(|u| u.password_hash.clone()).unwrap_or_else(|| dummy_hash().to_owned());
        // Bounded: a burst of logins queues for a few cores instead of taking 19 MiB each at once.
        let matches = self.verify_in_turn(password, &phc).await?;
        match user {
            Some(user) if matches => Ok(user),
            _ => Err(ApiError::Unauthorized(BAD_LOGIN)),
        }
    }

    /// 429 when `ip`, then `email` (a valid, lower-case address), has used up
    /// its login attempts; else one attempt is spent from each, as a login spends it.
    pub(super) async fn spend_login_attempt(&self, email: &str, ip: Option<&str>) -> Result<(), ApiError> {
        self.login_limiter_ip.check(&super::rate_limit::address_key(ip)).await.map_err(ApiError::rate_limited)?;
        self.login_limiter_email.check(email).await.map_err(ApiError::rate_limited)
    }

    /// A sign-in of `user` (who proved who they are with the password of
    /// `user.password_hash`), from `ip` with `user_agent`: a new session
    /// ([`Self::new_session`]), and the user's last sign-in is now.
    pub(super) async fn open_session(
        &self,
        user: User,
        ip: Option<String>,
        user_agent: Option<String>,
    ) -> Result<SignedIn, ApiError> {
        let signed_in = self.new_session(user, ip, user_agent).await?;
        self.store.record_sign_in(&signed_in.user.id, ids::now()).await?;
        Ok(signed_in)
    }

    /// A new session for `user`, as [`Self::open_session`] makes it, without
    /// counting as a sign-in (a password change gives the browser that made it
    /// a new one). If the password changed meanwhile (a change that ended every
    /// other session while this one was being made), the session is ended
    /// again and this is a 401.
    pub(super) async fn new_session(
        &self,
        user: User,
        ip: Option<String>,
        user_agent: Option<String>,
    ) -> Result<SignedIn, ApiError> {
        let memberships = self.store.memberships_of_user(&user.id).await?;
        let token = random_token();
        let now = ids::now();
        let session = Session {
            token_hash: self.session_token_hash(&token),
            user_id: user.id.clone(),
            created_at: now,
            last_seen_at: now,
            idle_expires_at: now + SESSION_IDLE,
            expires_at: now + SESSION_MAX,
            revoked_at: None,
            ip,
            user_agent: user_agent.map(|ua| ua.chars().take(256).collect()),
        };
        self.store.insert_session(&session).await?;
        // Read after the insert: a password change either came before this read
        // (seen here) or revokes this session after it (its revocation covers every other).
        let current = self.store.get_user(&user.id).await?;
        if current.as_ref().map(|u| u.password_hash.as_str()) != Some(user.password_hash.as_str()) {
            self.store.revoke_session(&session.token_hash, ids::now()).await?;
            return Err(ApiError::Unauthorized(BAD_LOGIN));
        }
        Ok(SignedIn { token, user, memberships, expires_at: session.expires_at })
    }

    /// The user of a live session token, moving its idle expiry forward.
    pub async fn authenticate_session(&self, token: &str) -> Result<Option<(User, Vec<Membership>)>, ApiError> {
        let hash = self.session_token_hash(token);
        let now = ids::now();
        let Some(session) = self.store.get_session(&hash, now).await?.filter(|s| s.is_live(now)) else {
            return Ok(None);
        };
        let Some(user) = self.store.get_user(&session.user_id).await? else {
            return Ok(None);
        };
        if now.since(session.last_seen_at) >= TOUCH_EVERY {
            self.store.touch_session(&hash, now, now + SESSION_IDLE).await?;
        }
        let memberships = self.store.memberships_of_user(&user.id).await?;
        Ok(Some((user, memberships)))
    }

    /// The tenants of `memberships`, with names and roles, for the tenant switcher.
    pub async fn tenants_of(&self, memberships: &[Membership]) -> Result<Vec<TenantChoice>, ApiError> {
        let mut out = Vec::with_capacity(memberships.len());
        for m in memberships {
            if let Some(t) = self.store.get_tenant(&m.tenant_id).await? {
                out.push(TenantChoice { tenant_id: t.id, name: t.name, slug: t.slug, role: m.role });
            }
        }
        Ok(out)
    }

    /// The tenants `ctx`'s caller may act on: a user's memberships, else just this one.
    pub async fn tenant_choices(&self, ctx: &super::Ctx) -> Result<Vec<TenantChoice>, ApiError> {
        let memberships = match &ctx.principal {
            super::Principal::User { user_id } => self.store.memberships_of_user(user_id).await?,
            _ => vec![Membership {
                tenant_id: ctx.tenant_id.clone(),
                user_id: UserId::default(),
                role: ctx.role,
                created_at: Timestamp::from_unix_millis(0),
            }],
        };
        self.tenants_of(&memberships).await
    }

    /// Makes `tenant_id` the tenant this browser acts on when a request names
    /// none (the header's tenant switcher): checked like `x-tenant-id`. Returns
    /// the tenant, which the web layer remembers in a cookie.
    pub async fn choose_tenant(&self, req: &Presented, tenant_id: &str) -> Result<TenantId, ApiError> {
        Ok(self.resolve_ctx_in(req, Some(tenant_id)).await?.tenant_id)
    }

    /// Who is calling: the principal, the tenant this request acts on and the caller's tenants.
    pub async fn describe_caller(&self, ctx: &super::Ctx) -> Result<CallerView, ApiError> {
        use super::Principal;
        let user = match &ctx.principal {
            Principal::User { user_id } => {
                let user = self.store.get_user(user_id).await?.ok_or(ApiError::Unauthorized(BAD_LOGIN))?;
                Some(UserView { id: user.id, email: user.email, name: user.name })
            }
            _ => None,
        };
        let tenants = self.tenant_choices(ctx).await?;
        Ok(CallerView {
            principal: ctx.principal.actor(),
            user,
            tenant_id: ctx.tenant_id.clone(),
            role: ctx.role,
            tenants,
        })
    }

    /// Signs in from a browser (REST or server function): refuses a foreign
    /// `Origin`, ends the session the browser already had, and returns the new
    /// session (the web layer sets its cookie).
    pub async fn sign_in(&self, req: &Presented, email: &str, password: &str) -> Result<SignedIn, ApiError> {
        self.refuse_foreign_origin(req, "This request's origin may not sign in here")?;
        let signed_in = self.login(email, password, req.source_ip.clone(), req.user_agent.clone()).await?;
        if let Some(old) = &req.session_token {
            self.logout(old).await?;
        }
        Ok(signed_in)
    }

    /// Signs out a browser: ends its session, if any (the web layer clears the cookie).
    pub async fn sign_out(&self, req: &Presented) -> Result<(), ApiError> {
        self.refuse_foreign_origin(req, "This request's origin may not sign out here")?;
        if let Some(token) = &req.session_token {
            self.logout(token).await?;
        }
        Ok(())
    }

    /// Ends every session of the caller's user ("sign out everywhere"): a
    /// lost laptop, a shared computer. Only signed-in users have sessions.
    pub async fn sign_out_everywhere(&self, me: &super::UserCtx) -> Result<u64, ApiError> {
        let user_id = &me.user_id;
        let ended = self.store.revoke_user_sessions(user_id, ids::now()).await?;
        // Every socket the user has open, on every node, goes with them.
        self.broadcaster.disconnect(Sockets::User(user_id)).await;
        Ok(ended)
    }

    /// Ends the session of `token` (if any), and disconnects the sockets opened with it.
    pub async fn logout(&self, token: &str) -> Result<(), ApiError> {
        let hash = self.session_token_hash(token);
        self.store.revoke_session(&hash, ids::now()).await?;
        self.broadcaster.disconnect(Sockets::Session(&hash)).await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let phc = hash_password("correct horse battery").unwrap();
        assert!(phc.starts_with("$argon2id$"), "{phc}");
        assert!(verify_password("correct horse battery", &phc));
        assert!(!verify_password("correct horse batterY", &phc));
        assert!(!verify_password("x", "not a phc string"));
        assert_ne!(phc, hash_password("correct horse battery").unwrap(), "salted");
    }

    #[test]
    fn tokens_are_random_and_long() {
        let (a, b) = (random_token(), random_token());
        assert_ne!(a, b);
        assert!(a.starts_with("hbs_") && a.len() == 4 + 43);
    }
}
