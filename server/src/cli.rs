//! The command line of the `server` binary: serving (the default) and the
//! administration commands, which work on the configured store directly.
//!
//! Administration prints JSON on stdout (logs go to stderr), so scripts can
//! read it: `server tenant create --name "Acme"` prints the new tenant's id,
//! its webhook secret and an admin API key, each shown this one time.
//!
//! `send` and `selftest` talk to a running deployment instead (see [`crate::tools`]).

use app::models::Role;
use clap::{Parser, Subcommand};
use serde_json::{json, Value};

use crate::{
    config::Config,
    error::ApiError,
    tools::{selftest::SelftestArgs, send::SendArgs},
    StartError,
};

/// hookbell: signed webhooks in, live dashboard notifications out.
#[derive(Debug, Parser)]
#[command(name = "server", version)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the dashboard, webhooks, API and Socket.IO (the default).
    Serve,
    /// Manage tenants.
    Tenant {
        #[command(subcommand)]
        action: TenantCommand,
    },
    /// Manage users.
    User {
        #[command(subcommand)]
        action: UserCommand,
    },
    /// Invite an email address to a tenant with a role: prints the invitation's
    /// link (shown this once; it works once, for 7 days, under
    /// `HOOKBELL_PUBLIC_URL`). Nothing is looked up about the email.
    Invite {
        /// The tenant's id or slug.
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        email: String,
        /// member, admin or owner.
        #[arg(long, default_value = "member")]
        role: String,
    },
    /// Send one signed webhook to a running deployment (with retries).
    Send(SendArgs),
    /// Check a running deployment end to end: webhooks, notification API and
    /// real-time channel; exits non-zero when anything fails.
    Selftest(SelftestArgs),
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user to a tenant with a role. A new user's password is read from
    /// the first line of stdin; an existing user keeps theirs.
    Add {
        /// The tenant's id or slug.
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        email: String,
        /// The display name of a new user.
        #[arg(long, default_value = "")]
        name: String,
        /// member, admin or owner.
        #[arg(long, default_value = "member")]
        role: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Create a tenant; prints its id, webhook secret and an admin API key.
    Create {
        /// The tenant's display name.
        #[arg(long)]
        name: String,
        /// The tenant's unique slug (default: made from the name).
        #[arg(long, default_value = "")]
        slug: String,
    },
    /// List tenants (id, name, slug, created time).
    List,
}

/// Why an administration command failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error(transparent)]
    Start(#[from] StartError),
    #[error("{}", .0.operator_message())]
    Api(#[from] ApiError),
}

/// Runs a tenant command against the configured store; returns what to print.
pub async fn tenant(config: Config, action: TenantCommand) -> Result<Value, AdminError> {
    let services = crate::build_services(config).await?;
    match action {
        TenantCommand::Create { name, slug } => {
            let created = services.create_tenant(&name, &slug).await?;
            let key = services.create_api_key(&created.tenant.id, "created with the CLI", Role::Admin, None).await?;
            Ok(json!({
                "tenantId": created.tenant.id,
                "name": created.tenant.name,
                "slug": created.tenant.slug,
                "webhookSecret": created.webhook_secret,
                "apiKey": key.key,
                "apiKeyPrefix": key.info.prefix,
            }))
        }
        TenantCommand::List => {
            let tenants = services.list_tenants().await?;
            Ok(Value::Array(
                tenants
                    .into_iter()
                    .map(|t| json!({"tenantId": t.id, "name": t.name, "slug": t.slug, "createdAt": t.created_at}))
                    .collect(),
            ))
        }
    }
}

/// Runs a user command; `password` is the first line of stdin (read by the caller).
pub async fn user(config: Config, action: UserCommand, password: &str) -> Result<Value, AdminError> {
    let services = crate::build_services(config).await?;
    match action {
        UserCommand::Add { tenant, email, name, role } => {
            let role = app::input::fields::parse_role(&role).map_err(ApiError::Validation)?;
            let tenant_id = services.tenant_id_by_slug_or_id(&tenant).await?;
            let name = if name.trim().is_empty() { email.split('@').next().unwrap_or("").to_owned() } else { name };
            let added = services.add_user_to_tenant(&tenant_id, &email, &name, password, role).await?;
            Ok(json!({
                "userId": added.user.id,
                "email": added.user.email,
                "name": added.user.name,
                "tenantId": added.membership.tenant_id,
                "role": added.membership.role,
                "created": added.created,
            }))
        }
    }
}

/// Runs `invite`: the invitation's link and what it invites to.
pub async fn invite(config: Config, tenant: &str, email: &str, role: &str) -> Result<Value, AdminError> {
    let services = crate::build_services(config).await?;
    let input = app::input::NewInvitation::new(email, Some(role)).map_err(ApiError::Validation)?;
    let tenant_id = services.tenant_id_by_slug_or_id(tenant).await?;
    let by = crate::service::invitations::Inviter { tenant_id: &tenant_id, actor: "cli".into(), source_ip: None };
    let base = services.public_base(None);
    let created = services.create_invitation(by, &input, &base).await?;
    Ok(json!({
        "url": created.url,
        "invitationId": created.invitation.id,
        "tenantId": tenant_id,
        "email": created.invitation.email,
        "role": created.invitation.role,
        "expiresAt": created.invitation.expires_at,
    }))
}
