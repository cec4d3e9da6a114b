//! The command line: `keyward` (or `keyward serve`) serves; the other subcommands act
//! on the database named by `DATABASE_URL` (the server's `.env`), also while it runs.
//! A usage error prints usage and exits 2; it never starts a server.

use crate::auth::admin;
use crate::infra::{
    config::{redact_url, Config},
    db::Db,
};
use crate::wallet::ledger::{self, Posted, Posting};
use crate::wallet::{EntryKind, Owner};
use clap::{Parser, Subcommand};
use std::process::ExitCode;

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
    /// Check the ledger.
    Ledger {
        #[command(subcommand)]
        action: LedgerAction,
    },
    /// Fill the database with users and keys for `make bench`.
    #[command(hide = true)]
    SeedBench {
        #[arg(default_value_t = 10_000)]
        users: usize,
        #[arg(default_value_t = 100_000)]
        keys: usize,
        #[arg(default_value = "bench-keys.txt")]
        out: String,
    },
}

#[derive(Subcommand)]
enum AdminAction {
    /// Make the account with this email an operator.
    Grant { email: String },
    /// Take the operator role away.
    Revoke { email: String },
}

#[derive(Subcommand)]
enum CreditsAction {
    /// Add credits to a person's wallet (a negative number deducts them).
    Grant {
        email: String,
        #[arg(allow_negative_numbers = true)]
        credits: i64,
        /// Why; shown in the person's transactions.
        #[arg(long)]
        reason: String,
        /// Run twice with the same key, the grant is made once.
        #[arg(long)]
        idempotency_key: Option<String>,
    },
}

#[derive(Subcommand)]
enum LedgerAction {
    /// Check that every wallet's balance is the sum of its entries.
    Verify,
}

/// The process's entry point.
pub async fn main() -> ExitCode {
    // Usage errors and --help exit here (2 and 0), before any configuration is read.
    let cli = Cli::parse();
    let _ = dotenvy::dotenv();
    tracing_subscriber::fmt()
        // Colour only for a person at a terminal, not in log files.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "keyward=info,tower_http=warn,warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(message) => {
            eprintln!("keyward: configuration error: {message}");
            return ExitCode::FAILURE;
        }
    };
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => return super::run::serve(config).await,
        Command::SeedBench { users, keys, out } => {
            super::seed::seed_bench(&config, users, keys, &out).await
        }
        Command::Admin { action } => match open(&config).await {
            Ok(db) => admin_command(&db, action).await,
            Err(message) => Err(message),
        },
        Command::Credits { action } => match open(&config).await {
            Ok(db) => credits_command(&db, action).await,
            Err(message) => Err(message),
        },
        Command::Ledger { action } => match open(&config).await {
            Ok(db) => ledger_command(&db, action).await,
            Err(message) => Err(message),
        },
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

fn explain(error: crate::error::AppError) -> String {
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

const MAX_REASON_CHARS: usize = 200;

async fn credits_command(db: &Db, action: CreditsAction) -> Result<(), String> {
    let CreditsAction::Grant {
        email,
        credits,
        reason,
        idempotency_key,
    } = action;
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > MAX_REASON_CHARS {
        return Err(format!(
            "--reason is required: 1 to {MAX_REASON_CHARS} characters"
        ));
    }
    if credits == 0 || credits.unsigned_abs() > crate::wallet::charges::MAX_COST as u64 {
        return Err("the number of credits must be a non-zero whole number".into());
    }
    let Some(user_id) = admin::user_id_by_email(db, &email).await.map_err(explain)? else {
        return Err(format!("no account has the email {email}"));
    };
    let idempotency_key = match idempotency_key {
        Some(key) => format!("grant:{key}"),
        None => format!(
            "grant:{}",
            crate::infra::random::base62(24).map_err(explain)?
        ),
    };
    let posting = Posting {
        owner: Owner::User(user_id),
        amount: credits,
        kind: EntryKind::OperatorGrant,
        reference: None,
        description: reason.to_string(),
        actor: "operator (command line)".into(),
        key_id: None,
        metadata: None,
        idempotency_key,
        // An operator's deduction may take a balance below zero; it is a correction.
        may_overdraw: true,
    };
    let now = crate::infra::clock::Clock::default().now_ms();
    match ledger::post(db, &posting, now).await.map_err(explain)? {
        Posted::New { entry_id, balance } => {
            println!("{entry_id}: {credits:+} credits for {email}; balance {balance}");
            Ok(())
        }
        Posted::Duplicate { entry, balance } => {
            println!(
                "{}: already granted with this idempotency key ({:+} credits); balance {balance}",
                entry.id, entry.amount
            );
            Ok(())
        }
        Posted::Insufficient { balance } => Err(format!(
            "the balance ({balance}) cannot cover this deduction"
        )),
    }
}

async fn ledger_command(db: &Db, action: LedgerAction) -> Result<(), String> {
    let LedgerAction::Verify = action;
    let (wallets, mismatches) = ledger::verify(db).await.map_err(explain)?;
    if mismatches.is_empty() {
        println!("ledger verified: {wallets} wallets, every balance is the sum of its entries");
        return Ok(());
    }
    for m in &mismatches {
        println!(
            "MISMATCH {}: balance {} but entries sum to {}",
            m.wallet_id, m.balance, m.entries_sum
        );
    }
    Err(format!(
        "{} of {wallets} wallets do not add up",
        mismatches.len()
    ))
}
