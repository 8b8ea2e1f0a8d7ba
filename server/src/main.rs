//! The `server` binary: reads the environment, then serves (the default) or
//! runs an administration command (see [`server::cli`]).

use std::process::ExitCode;

use clap::Parser;
use server::{
    cli::{Cli, Command},
    config::Config,
};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .with_writer(std::io::stderr)
        .init();

    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("hookbell: {e}");
            return ExitCode::from(2);
        }
    };
    match Cli::parse().command {
        None | Some(Command::Serve) => serve(config).await,
        Some(Command::Tenant { action }) => report(server::cli::tenant(config, action).await),
        Some(Command::User { action }) => {
            let mut password = String::new();
            if let Err(e) = std::io::stdin().read_line(&mut password) {
                eprintln!("hookbell: cannot read the password from stdin: {e}");
                return ExitCode::from(1);
            }
            let password = password.trim_end_matches(['\r', '\n']);
            report(server::cli::user(config, action, password).await)
        }
    }
}

/// Prints an administration command's JSON, or its error.
fn report(result: Result<serde_json::Value, server::cli::AdminError>) -> ExitCode {
    match result {
        Ok(out) => {
            println!("{out:#}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("hookbell: {e}");
            ExitCode::from(1)
        }
    }
}

async fn serve(config: Config) -> ExitCode {
    let addr = config.site_addr;
    let built = match server::build(config).await {
        Ok(b) => b,
        Err(e) => {
            eprintln!("hookbell: cannot start: {e}");
            return ExitCode::from(1);
        }
    };
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("hookbell: cannot listen on {addr}: {e}");
            return ExitCode::from(1);
        }
    };
    println!("hookbell: listening on http://{addr}");
    if let Err(e) = server::serve(listener, built).await {
        eprintln!("hookbell: server error: {e}");
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}
