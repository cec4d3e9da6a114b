//! `keyward ledger verify`: every balance is the sum of its entries, and what services
//! were answered is in the database.

use super::explain;
use crate::infra::db::Db;
use crate::wallet::ledger;
use clap::Subcommand;

#[derive(Subcommand)]
pub(super) enum LedgerAction {
    /// Check that every wallet's balance is the sum of its entries.
    Verify {
        /// Also check that every charge id in this file (one per line) is in the
        /// ledger: for instance the charges a service was answered `valid` for.
        #[arg(long)]
        charges: Option<String>,
        /// Also check the jobs a service was answered for: lines `held JOB_ID` (a 201 to
        /// its submission) and `settled JOB_ID FINAL_COST` (a 200 to its completion).
        #[arg(long)]
        jobs: Option<String>,
    },
}

pub(super) async fn ledger_command(db: &Db, action: LedgerAction) -> Result<(), String> {
    let LedgerAction::Verify { charges, jobs } = action;
    if let Some(file) = jobs {
        let text = std::fs::read_to_string(&file).map_err(|e| format!("{file}: {e}"))?;
        let problems = crate::jobs::store::unacknowledged(db, &text)
            .await
            .map_err(explain)?;
        for problem in &problems {
            println!("JOB {problem}");
        }
        if !problems.is_empty() {
            return Err(format!(
                "{} acknowledged job steps are not as answered",
                problems.len()
            ));
        }
        println!("every hold and settlement in {file} is as it was answered");
    }
    if let Some(file) = charges {
        let text = std::fs::read_to_string(&file).map_err(|e| format!("{file}: {e}"))?;
        let ids: Vec<String> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect();
        let missing = ledger::missing_entries(db, &ids).await.map_err(explain)?;
        if !missing.is_empty() {
            for id in &missing {
                println!("MISSING {id}");
            }
            return Err(format!(
                "{} of {} charges are not in the ledger",
                missing.len(),
                ids.len()
            ));
        }
        println!("all {} charges from {file} are in the ledger", ids.len());
    }
    let (wallets, mismatches) = ledger::verify(db).await.map_err(explain)?;
    let out_of_bounds = crate::wallet::included::out_of_bounds(db)
        .await
        .map_err(explain)?;
    for (wallet, included, balance) in &out_of_bounds {
        println!("INCLUDED {wallet}: {included} included credits but a balance of {balance}");
    }
    if !out_of_bounds.is_empty() {
        return Err(format!(
            "{} of {wallets} wallets count more included credits than they hold",
            out_of_bounds.len()
        ));
    }
    let holds = crate::jobs::store::hold_mismatches(db)
        .await
        .map_err(explain)?;
    for (wallet, held, jobs) in &holds {
        println!("HELD {wallet}: {held} credits on hold but its jobs hold {jobs}");
    }
    if !holds.is_empty() {
        return Err(format!(
            "{} of {wallets} wallets hold other than their jobs",
            holds.len()
        ));
    }
    if mismatches.is_empty() {
        println!("ledger verified: {wallets} wallets, every balance is the sum of its entries and every hold is its jobs'");
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
