//! Per-tenant API keys for programmatic access (`Authorization: Bearer …`).
//!
//! A key is `hb_<8 hex>_<43 base64url>`: the `hb_<8 hex>` prefix is stored in
//! the clear to find the key and to show it in lists; the whole key is stored
//! only as its SHA-256 and compared in constant time. The key itself is shown
//! once, when it is created.

use app::{
    input::{NewApiKey, Parsed},
    models::{ApiKeyId, ApiKeyInfo, CreatedApiKey, Role, TenantId},
};
use base64::Engine;
use rand::{rngs::OsRng, TryRngCore};
use serde_json::json;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{push::Sockets, Ctx, Services};
use crate::{
    error::{ApiError, FieldError},
    ids,
    store::ApiKey,
};

fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// A new random key and its prefix.
fn generate_key() -> (String, String) {
    let mut prefix = [0u8; 4];
    let mut secret = [0u8; 32];
    OsRng.try_fill_bytes(&mut prefix).expect("the operating system's random source failed");
    OsRng.try_fill_bytes(&mut secret).expect("the operating system's random source failed");
    let prefix = format!("hb_{}", hex::encode(prefix));
    let key = format!("{prefix}_{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret));
    (prefix, key)
}

/// The prefix of a presented key, if it has the shape of one.
fn prefix_of(key: &str) -> Option<&str> {
    let prefix = key.get(..11)?;
    let well_formed = prefix.starts_with("hb_")
        && prefix[3..].bytes().all(|b| b.is_ascii_hexdigit())
        && key.as_bytes().get(11) == Some(&b'_');
    well_formed.then_some(prefix)
}

impl Services {
    /// Creates an API key for `tenant_id` with `role` (administration: the
    /// CLI and tests name the tenant by its id's text).
    pub async fn create_api_key(
        &self,
        tenant_id: &str,
        name: &str,
        role: Role,
        created_by: Option<String>,
    ) -> Result<CreatedApiKey, ApiError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(ApiError::Validation(vec![FieldError::new("name", "must be 1 to 100 characters")]));
        }
        let (prefix, key) = generate_key();
        let info = ApiKeyInfo {
            id: ids::new_id(),
            tenant_id: TenantId::from(tenant_id),
            name: name.to_owned(),
            prefix,
            role,
            created_by,
            created_at: ids::now(),
            last_used_at: None,
            revoked_at: None,
        };
        self.store.insert_api_key(&ApiKey { info: info.clone(), key_hash: sha256_hex(&key) }).await?;
        Ok(CreatedApiKey { info, key })
    }

    /// `POST /api/keys`: a new key of the caller's tenant (admins), with a
    /// role no higher than the caller's (default member); the key is in this
    /// answer only. Audited as `api_key.created`.
    pub async fn create_api_key_for(&self, ctx: &Ctx, input: Parsed<NewApiKey>) -> Result<CreatedApiKey, ApiError> {
        ctx.require(Role::Admin)?;
        let input = input.map_err(ApiError::Validation)?;
        let (name, role) = (&input.name, input.role);
        if role > ctx.role {
            return Err(ApiError::Forbidden(format!("A key may not have more than your role ({})", ctx.role.as_str())));
        }
        let created = self.create_api_key(&ctx.tenant_id, name, role, Some(ctx.principal.actor())).await?;
        let details = json!({"name": created.info.name, "prefix": created.info.prefix, "role": role});
        self.audit(ctx, "api_key.created", "api_key", &created.info.id, details).await?;
        Ok(created)
    }

    /// `GET /api/keys`: the tenant's keys by prefix, newest first (admins); never a key or its hash.
    pub async fn list_api_keys_for(&self, ctx: &Ctx) -> Result<Vec<ApiKeyInfo>, ApiError> {
        ctx.require(Role::Admin)?;
        Ok(self.store.list_api_keys(&ctx.tenant_id).await?)
    }

    /// `DELETE /api/keys/{id}`: revokes a key of the caller's tenant at once (admins). Audited.
    pub async fn revoke_api_key_for(&self, ctx: &Ctx, id: &str) -> Result<(), ApiError> {
        ctx.require(Role::Admin)?;
        let Some(id) = ApiKeyId::parse(id) else {
            return Err(ApiError::NotFound("API key"));
        };
        if !self.store.revoke_api_key(&ctx.tenant_id, &id, ids::now()).await? {
            return Err(ApiError::NotFound("API key"));
        }
        // Open sockets of the key, on every node, go too.
        self.broadcaster.disconnect(Sockets::ApiKey(&id)).await;
        self.audit(ctx, "api_key.revoked", "api_key", &id, json!({})).await?;
        Ok(())
    }

    /// Checks an API key: its id, tenant and role, or 401 (unknown, wrong or revoked).
    pub async fn authenticate_api_key(&self, key: &str) -> Result<(ApiKeyId, TenantId, Role), ApiError> {
        const REFUSED: ApiError = ApiError::Unauthorized("Invalid or revoked API key");
        let prefix = prefix_of(key).ok_or(REFUSED)?;
        let stored = self.store.get_api_key_by_prefix(prefix).await?.ok_or(REFUSED)?;
        let matches: bool = sha256_hex(key).as_bytes().ct_eq(stored.key_hash.as_bytes()).into();
        if !matches || stored.info.revoked_at.is_some() {
            return Err(REFUSED);
        }
        if let Err(e) = self.store.touch_api_key(&stored.info.id, ids::now()).await {
            tracing::warn!(error = %e, "could not record API key use");
        }
        Ok((stored.info.id, stored.info.tenant_id, stored.info.role))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_random_and_carry_their_prefix() {
        let (p1, k1) = generate_key();
        let (p2, k2) = generate_key();
        assert_ne!(k1, k2);
        assert_eq!(prefix_of(&k1), Some(p1.as_str()));
        assert_eq!(prefix_of(&k2), Some(p2.as_str()));
        assert_eq!(k1.len(), 11 + 1 + 43);
        for bad in ["", "hb_", "hb_zzzzzzzz_x", "xx_12345678_abc", "hb_12345678abc"] {
            assert_eq!(prefix_of(bad), None, "{bad}");
        }
    }
}
