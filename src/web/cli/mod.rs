//! The command line: `keyward` (or `keyward serve`) serves; the other subcommands act
//! on the database named by `DATABASE_URL` (the server's `.env`), also while it runs.
//! A usage error prints usage and exits 2; it never starts a server.

use crate::auth::admin;
use crate::infra::{
    config::{redact_url, Config},
    db::Db,
};
use clap::{Parser, Subcommand};
use ledger::{ledger_command, LedgerAction};
use wallet::{
    credits_command, orders_command, promo_command, CreditsAction, OrdersAction, PromoAction,
};

mod ledger;
mod wallet;
mod webhooks;
use std::process::ExitCode;
use webhooks::{webhooks_command, WebhooksAction};

#[derive(Parser)]
#[command(
    name = "keyward",
    version,
    about = "Keyward: an account hub for API keys and credits.",
    long_about = "Keyward: an account hub for API keys and credits.\n\nWithout a subcommand it serves the app. Configuration comes from the environment and a .env file (see .env.example)."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the app (what `keyward` alone does).
    Serve,
    /// Give or take the admin (operator) role.
    Admin {
        #[command(subcommand)]
        action: AdminAction,
    },
    /// Grant or deduct credits, as a ledger entry with a reason.
    Credits {
        #[command(subcommand)]
        action: CreditsAction,
    },
    /// Create, list and deactivate promo codes.
    Promo {
        #[command(subcommand)]
        action: PromoAction,
    },
    /// Print the plans in force, as a plans file (KEYWARD_PLANS_FILE) reads them.
    Plans,
    /// Put a person on a plan (free, standard, pro or one from the plans file).
    Plan {
        #[command(subcommand)]
        action: PlanAction,
    },
    /// Look up an order and its payment events.
    Orders {
        #[command(subcommand)]
        action: OrdersAction,
    },
    /// Check the ledger.
    Ledger {
        #[command(subcommand)]
        action: LedgerAction,
    },
    /// The operator's webhook endpoints: add, list, remove, resend.
    Webhooks {
        #[command(subcommand)]
        action: WebhooksAction,
    },
    /// Write a consistent copy of the SQLite database to FILE while the server runs.
    Backup { file: std::path::PathBuf },
    /// Put the backup FILE in place of the SQLite database; no server may be using it.
    Restore { file: std::path::PathBuf },
    /// Fill the database with users and keys for `make bench`.
    #[command(hide = true)]
    SeedBench {
        #[arg(default_value_t = 10_000)]
        users: usize,
        #[arg(default_value_t = 100_000)]
        keys: usize,
        #[arg(default_value = "bench-keys.txt")]
        out: String,
        /// Give this many of the first users credits, for the charge benchmark.
        #[arg(long, default_value_t = 0)]
        fund_users: usize,
        /// Credits each funded user gets.
        #[arg(long, default_value_t = 1_000_000)]
        credits: i64,
        /// Where the funded users' keys go (one each).
        #[arg(long, default_value = "bench-funded-keys.txt")]
        funded_out: String,
    },
}

#[derive(Subcommand)]
enum PlanAction {
    /// Set the plan of the account with this email.
    Set {
        email: String,
        /// A plan's id, as `keyward plans` lists them.
        plan: String,
    },
}

#[derive(Subcommand)]
enum AdminAction {
    /// Make the account with this email an operator.
    Grant { email: String },
    /// Take the operator role away.
    Revoke { email: String },
}

/// The process's entry point.
pub async fn main() -> ExitCode {
    // Usage errors and --help exit here (2 and 0), before any configuration is read.
    let cli = Cli::parse();
    let _ = dotenvy::dotenv();
    let format = match crate::infra::operations_config::LogFormat::from_env() {
        Ok(format) => format,
        Err(message) => {
            eprintln!("keyward: configuration error: {message}");
            return ExitCode::FAILURE;
        }
    };
    let logs = tracing_subscriber::fmt()
        // Colour only for a person at a terminal, not in log files.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "keyward=info,tower_http=warn,warn".into()),
        )
        .with_writer(std::io::stderr);
    match format {
        crate::infra::operations_config::LogFormat::Text => logs.init(),
        // One object per line; the request's span (its `request_id`) in each.
        crate::infra::operations_config::LogFormat::Json => logs
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .init(),
    }
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(message) => {
            eprintln!("keyward: configuration error: {message}");
            return ExitCode::FAILURE;
        }
    };
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => return super::run::serve(config).await,
        Command::SeedBench {
            users,
            keys,
            out,
            fund_users,
            credits,
            funded_out,
        } => {
            let funding = (fund_users > 0).then_some(super::seed::Funding {
                users: fund_users,
                credits,
                out: funded_out,
            });
            super::seed::seed_bench(&config, users, keys, &out, funding).await
        }
        Command::Admin { action } => match open(&config).await {
            Ok(db) => admin_command(&db, action).await,
            Err(message) => Err(message),
        },
        Command::Credits { action } => match open(&config).await {
            Ok(db) => credits_command(&db, action).await,
            Err(message) => Err(message),
        },
        Command::Promo { action } => match open(&config).await {
            Ok(db) => promo_command(&db, &config, action).await,
            Err(message) => Err(message),
        },
        Command::Plans => {
            print!("{}", config.plans.to_toml(&config.currency));
            Ok(())
        }
        Command::Plan { action } => match open(&config).await {
            Ok(db) => plan_command(&db, &config, action).await,
            Err(message) => Err(message),
        },
        Command::Orders { action } => match open(&config).await {
            Ok(db) => orders_command(&db, action).await,
            Err(message) => Err(message),
        },
        Command::Ledger { action } => match open(&config).await {
            Ok(db) => ledger_command(&db, action).await,
            Err(message) => Err(message),
        },
        Command::Webhooks { action } => match open(&config).await {
            Ok(db) => webhooks_command(&db, action).await,
            Err(message) => Err(message),
        },
        Command::Backup { file } => match open(&config).await {
            Ok(db) => crate::infra::backup::backup(&db, &file)
                .await
                .map(|bytes| println!("backed up to {} ({bytes} bytes)", file.display())),
            Err(message) => Err(message),
        },
        Command::Restore { file } => crate::infra::backup::restore(&config.database_url, &file)
            .await
            .map(|()| {
                println!(
                    "restored {}; run `keyward ledger verify` to check it",
                    file.display()
                )
            }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => fail(&message),
    }
}

async fn open(config: &Config) -> Result<Db, String> {
    Db::connect(&config.database_url).await.map_err(|error| {
        format!(
            "cannot open the database ({}): {error}",
            redact_url(&config.database_url)
        )
    })
}

fn fail(message: &str) -> ExitCode {
    eprintln!("keyward: {message}");
    ExitCode::FAILURE
}

pub(super) fn explain(error: crate::error::AppError) -> String {
    match error {
        crate::error::AppError::Validation(fields) => fields
            .into_iter()
            .map(|f| f.message)
            .collect::<Vec<_>>()
            .join(" "),
        other => other.to_string(),
    }
}

async fn admin_command(db: &Db, action: AdminAction) -> Result<(), String> {
    let (email, grant) = match &action {
        AdminAction::Grant { email } => (email, true),
        AdminAction::Revoke { email } => (email, false),
    };
    if !admin::set_admin(db, email, grant).await.map_err(explain)? {
        return Err(format!("no account has the email {email}"));
    }
    if grant {
        println!("{email} is now an admin");
    } else {
        println!("{email} is no longer an admin");
    }
    Ok(())
}

async fn plan_command(db: &Db, config: &Config, action: PlanAction) -> Result<(), String> {
    let PlanAction::Set { email, plan } = action;
    let plans = &config.plans;
    let Some(plan) = plans.find(&plan) else {
        return Err(format!(
            "{plan:?} is not a plan; use {}",
            plans.ids_listed()
        ));
    };
    let now = crate::time_fmt::now_ms();
    if !crate::lab::store::set_plan(db, &email, &plan.id, now)
        .await
        .map_err(explain)?
    {
        return Err(format!("no account has the email {email}"));
    }
    println!(
        "{email} is now on the {} plan ({} compute hours a month)",
        plan.name, plan.lab_hours
    );
    Ok(())
}
