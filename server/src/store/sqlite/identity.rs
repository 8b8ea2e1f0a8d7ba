//! Identity in SQLite: the `users`, `memberships`, `sessions` and `api_keys`
//! tables; a membership change that would leave a tenant without an owner is
//! refused by the one statement that makes it.

use app::models::{ApiKeyId, Preferences, PreferencesPatch, Role, TenantId, Timestamp, UserId};
use async_trait::async_trait;

use super::{
    map_err,
    query::{all_on, exec_on, one_on, vals},
    rows::{
        api_key_from_row, api_key_info_from_row, api_key_values, cell, json_text, parse_json, role_at,
        session_from_row, session_values, user_from_row, API_KEY_COLUMNS, SESSION_COLUMNS, USER_COLUMNS,
    },
    SqliteStore,
};
use crate::store::{ApiKey, ApiKeyInfo, IdentityStore, Membership, MembershipChange, Session, StoreResult, User};

impl SqliteStore {
    /// Memberships matching `clause` (with `?1` = `value`).
    async fn memberships(&self, clause: &'static str, value: &str) -> StoreResult<Vec<Membership>> {
        self.all(
            format!("SELECT tenant_id, user_id, role, created_at FROM memberships WHERE {clause}"),
            vals![value],
            |r| {
                Ok(Membership {
                    tenant_id: cell(r, 0)?,
                    user_id: cell(r, 1)?,
                    role: role_at(r, 2)?,
                    created_at: cell(r, 3)?,
                })
            },
        )
        .await
    }
}

#[async_trait]
impl IdentityStore for SqliteStore {
    async fn insert_user(&self, user: &User) -> StoreResult<()> {
        self.exec(
            format!("INSERT INTO users ({USER_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
            vals![
                &user.id,
                user.email.to_lowercase(),
                &user.name,
                &user.password_hash,
                &user.created_at,
                &user.last_sign_in_at
            ],
        )
        .await
        .map(|_| ())
    }

    async fn get_user(&self, user_id: &UserId) -> StoreResult<Option<User>> {
        self.one(format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1"), vals![user_id], user_from_row).await
    }

    async fn get_user_by_email(&self, email: &str) -> StoreResult<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE email = ?1");
        self.one(sql, vals![email.to_lowercase()], user_from_row).await
    }

    async fn set_membership(&self, m: &Membership) -> StoreResult<()> {
        self.exec(
            "INSERT INTO memberships (tenant_id, user_id, role, created_at) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (tenant_id, user_id) DO UPDATE SET role = excluded.role",
            vals![&m.tenant_id, &m.user_id, m.role.as_str(), &m.created_at],
        )
        .await
        .map(|_| ())
    }

    async fn add_membership(&self, m: &Membership) -> StoreResult<bool> {
        let sql = "INSERT INTO memberships (tenant_id, user_id, role, created_at) VALUES (?1, ?2, ?3, ?4) \
                   ON CONFLICT (tenant_id, user_id) DO NOTHING";
        Ok(self.exec(sql, vals![&m.tenant_id, &m.user_id, m.role.as_str(), &m.created_at]).await? > 0)
    }

    async fn record_sign_in(&self, user_id: &UserId, at: Timestamp) -> StoreResult<()> {
        self.exec("UPDATE users SET last_sign_in_at = ?2 WHERE id = ?1", vals![user_id, at]).await.map(|_| ())
    }

    async fn update_password(&self, user_id: &UserId, from: &str, to: &str) -> StoreResult<bool> {
        let sql = "UPDATE users SET password_hash = ?3 WHERE id = ?1 AND password_hash = ?2";
        Ok(self.exec(sql, vals![user_id, from, to]).await? > 0)
    }

    async fn memberships_of_user(&self, user_id: &UserId) -> StoreResult<Vec<Membership>> {
        self.memberships("user_id = ?1 ORDER BY created_at, tenant_id", user_id).await
    }

    async fn memberships_of_tenant(&self, tenant_id: &TenantId) -> StoreResult<Vec<Membership>> {
        self.memberships("tenant_id = ?1 ORDER BY created_at, user_id", tenant_id).await
    }

    async fn delete_membership(&self, tenant_id: &TenantId, user_id: &UserId) -> StoreResult<bool> {
        let sql = "DELETE FROM memberships WHERE tenant_id = ?1 AND user_id = ?2";
        Ok(self.exec(sql, vals![tenant_id, user_id]).await? > 0)
    }

    async fn change_membership(
        &self,
        tenant_id: &TenantId,
        user_id: &UserId,
        to: Option<Role>,
    ) -> StoreResult<MembershipChange> {
        let (t, u) = (tenant_id.to_owned(), user_id.to_owned());
        self.write(move |c| {
            let from: Option<String> =
                one_on(c, "SELECT role FROM memberships WHERE tenant_id = ?1 AND user_id = ?2", vals![&t, &u], |r| {
                    r.get(0)
                })?;
            let Some(from) = from.as_deref().and_then(Role::parse) else {
                return Ok(MembershipChange::NotFound);
            };
            // One statement decides: it changes nothing if the member is an
            // owner, would stop being one, and is the only one.
            let keeps_an_owner = "(role <> 'owner' OR (SELECT COUNT(*) FROM memberships \
                                  WHERE tenant_id = ?1 AND role = 'owner') > 1)";
            let changed = match to {
                Some(role) => exec_on(
                    c,
                    &format!(
                        "UPDATE memberships SET role = ?3 WHERE tenant_id = ?1 AND user_id = ?2 \
                         AND (?3 = 'owner' OR {keeps_an_owner})"
                    ),
                    vals![t, u, role.as_str()],
                ),
                None => exec_on(
                    c,
                    &format!("DELETE FROM memberships WHERE tenant_id = ?1 AND user_id = ?2 AND {keeps_an_owner}"),
                    vals![t, u],
                ),
            }?;
            Ok(if changed == 1 { MembershipChange::Changed { from } } else { MembershipChange::LastOwner })
        })
        .await
    }

    async fn insert_session(&self, session: &Session) -> StoreResult<()> {
        let sql = format!("INSERT INTO sessions ({SESSION_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
        self.exec(sql, session_values(session)).await.map(|_| ())
    }

    async fn get_session(&self, token_hash: &str, now: Timestamp) -> StoreResult<Option<Session>> {
        let sql = format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE token_hash = ?1 AND expires_at > ?2");
        self.one(sql, vals![token_hash, now], session_from_row).await
    }

    async fn touch_session(
        &self,
        token_hash: &str,
        last_seen_at: Timestamp,
        idle_expires_at: Timestamp,
    ) -> StoreResult<bool> {
        let sql =
            "UPDATE sessions SET last_seen_at = ?2, idle_expires_at = ?3 WHERE token_hash = ?1 AND revoked_at IS NULL";
        Ok(self.exec(sql, vals![token_hash, last_seen_at, idle_expires_at]).await? > 0)
    }

    async fn revoke_session(&self, token_hash: &str, at: Timestamp) -> StoreResult<bool> {
        let sql = "UPDATE sessions SET revoked_at = ?2 WHERE token_hash = ?1 AND revoked_at IS NULL";
        Ok(self.exec(sql, vals![token_hash, at]).await? > 0)
    }

    async fn revoke_user_sessions(&self, user_id: &UserId, at: Timestamp) -> StoreResult<u64> {
        let sql = "UPDATE sessions SET revoked_at = ?2 WHERE user_id = ?1 AND revoked_at IS NULL";
        self.exec(sql, vals![user_id, at]).await
    }

    async fn revoke_other_sessions(&self, user_id: &UserId, keep: &str, at: Timestamp) -> StoreResult<Vec<String>> {
        let sql = "UPDATE sessions SET revoked_at = ?3 WHERE user_id = ?1 AND token_hash <> ?2 AND revoked_at IS NULL \
                   RETURNING token_hash";
        let params = vals![user_id, keep, at];
        self.write(move |c| all_on(c, sql, params, |r| r.get(0))).await
    }

    async fn list_sessions(&self, user_id: &UserId, now: Timestamp) -> StoreResult<Vec<Session>> {
        let sql = format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE user_id = ?1 AND revoked_at IS NULL \
             AND expires_at > ?2 AND idle_expires_at > ?2 ORDER BY last_seen_at DESC, created_at DESC"
        );
        self.all(sql, vals![user_id, now], session_from_row).await
    }

    async fn purge_sessions(&self, now: Timestamp) -> StoreResult<u64> {
        self.exec("DELETE FROM sessions WHERE expires_at <= ?1", vals![now]).await
    }

    async fn insert_api_key(&self, key: &ApiKey) -> StoreResult<()> {
        let sql = format!("INSERT INTO api_keys ({API_KEY_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
        self.exec(sql, api_key_values(key)).await.map(|_| ())
    }

    async fn get_api_key_by_prefix(&self, prefix: &str) -> StoreResult<Option<ApiKey>> {
        let sql = format!("SELECT {API_KEY_COLUMNS} FROM api_keys WHERE prefix = ?1");
        self.one(sql, vals![prefix], api_key_from_row).await
    }

    async fn list_api_keys(&self, tenant_id: &TenantId) -> StoreResult<Vec<ApiKeyInfo>> {
        let sql = format!(
            "SELECT {API_KEY_COLUMNS} FROM api_keys WHERE tenant_id = ?1 \
             ORDER BY created_at DESC, id DESC LIMIT ?2"
        );
        self.all(sql, vals![tenant_id, u32::MAX], api_key_info_from_row).await
    }

    async fn revoke_api_key(&self, tenant_id: &TenantId, id: &ApiKeyId, at: Timestamp) -> StoreResult<bool> {
        let sql = "UPDATE api_keys SET revoked_at = ?3 WHERE tenant_id = ?1 AND id = ?2 AND revoked_at IS NULL";
        Ok(self.exec(sql, vals![tenant_id, id, at]).await? > 0)
    }

    async fn touch_api_key(&self, id: &ApiKeyId, at: Timestamp) -> StoreResult<()> {
        self.exec("UPDATE api_keys SET last_used_at = ?2 WHERE id = ?1", vals![id, at]).await.map(|_| ())
    }

    async fn get_preferences(&self, owner: &str) -> StoreResult<Option<Preferences>> {
        self.one("SELECT prefs FROM preferences WHERE owner = ?1", vals![owner], |r| {
            parse_json(0, &r.get::<_, String>(0)?)
        })
        .await
    }

    async fn update_preferences(&self, owner: &str, patch: &PreferencesPatch) -> StoreResult<Preferences> {
        let (owner, patch) = (owner.to_owned(), patch.clone());
        // Read, change and write on the one writer: changes at the same instant apply in turn.
        self.write(move |c| {
            let tx = c.savepoint().map_err(map_err)?;
            let current = one_on(&tx, "SELECT prefs FROM preferences WHERE owner = ?1", vals![&owner], |r| {
                parse_json::<Preferences>(0, &r.get::<_, String>(0)?)
            })?;
            let now = current.unwrap_or_default().with(&patch);
            exec_on(
                &tx,
                "INSERT INTO preferences (owner, prefs) VALUES (?1, ?2) \
                 ON CONFLICT (owner) DO UPDATE SET prefs = excluded.prefs",
                vals![&owner, json_text(&now)?],
            )?;
            tx.commit().map_err(map_err)?;
            Ok(now)
        })
        .await
    }
}
