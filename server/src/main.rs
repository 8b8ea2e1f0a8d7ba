//! The `server` binary: reads the environment, then serves (the default) or
//! runs an administration command (see [`server::cli`]).

use std::process::ExitCode;

use clap::Parser;
use server::{
    cli::{Cli, Command},
    config::Config,
};
use tracing_subscriber::EnvFilter;

/// jemalloc rather than glibc's malloc: 14–17 % more webhooks/s at a lower p99, and a little
/// less memory per idle connection (BENCHMARKS.md, "jemalloc as the global allocator").
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let filter = || EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt().with_writer(std::io::stderr);
    // `HOOKBELL_LOG_FORMAT=json`: one JSON object a line, the request's span (its id) in each.
    match std::env::var("HOOKBELL_LOG_FORMAT").ok().as_deref().map(str::trim) {
        None | Some("" | "text") => logs.with_env_filter(filter()).init(),
        Some("json") => logs.json().with_current_span(true).with_span_list(false).with_env_filter(filter()).init(),
        Some(other) => {
            eprintln!("hookbell: HOOKBELL_LOG_FORMAT: {other:?} is not text or json");
            return ExitCode::from(2);
        }
    }

    match Cli::parse().command {
        // The sender-side tools talk to a deployment: no server configuration.
        Some(Command::Send(args)) => send(&args).await,
        Some(Command::Selftest(args)) => selftest(&args).await,
        other => serve_or_administer(other).await,
    }
}

async fn serve_or_administer(command: Option<Command>) -> ExitCode {
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("hookbell: {e}");
            return ExitCode::from(2);
        }
    };
    match command {
        None | Some(Command::Serve) => serve(config).await,
        Some(Command::Tenant { action }) => report(server::cli::tenant(config, action).await),
        Some(Command::Invite { tenant, email, role }) => {
            report(server::cli::invite(config, &tenant, &email, &role).await)
        }
        Some(Command::User { action }) => {
            let mut password = String::new();
            if let Err(e) = std::io::stdin().read_line(&mut password) {
                eprintln!("hookbell: cannot read the password from stdin: {e}");
                return ExitCode::from(1);
            }
            let password = password.trim_end_matches(['\r', '\n']);
            report(server::cli::user(config, action, password).await)
        }
        Some(Command::Send(args)) => send(&args).await,
        Some(Command::Selftest(args)) => selftest(&args).await,
    }
}

/// `server send`: prints the delivery as JSON; fails unless it was delivered.
async fn send(args: &server::tools::send::SendArgs) -> ExitCode {
    match server::tools::send::run(args, std::io::stdin().lock()).await {
        Ok((report, delivered)) => {
            println!("{report:#}");
            if delivered {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("hookbell: {e}");
            ExitCode::from(2)
        }
    }
}

/// `server selftest`: prints the table (or JSON); fails when any check failed.
async fn selftest(args: &server::tools::selftest::SelftestArgs) -> ExitCode {
    let report = server::tools::selftest::run(args).await;
    if args.json {
        println!("{:#}", serde_json::to_value(&report).unwrap_or_default());
    } else {
        print!("{}", report.table());
    }
    if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
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
