//! A wallet at a glance, read once for the Wallet page and the REST API alike.

use super::{ledger, low_balance, DailySpend, WalletSummary, BURN_DAYS};
use crate::error::AppError;
use crate::infra::{config::Config, db::Db};
use crate::time_fmt::DAY_MS;
use crate::workspace::Owner;

/// The owner's balance, its worth, the last `BURN_DAYS` of spending and the alert's
/// threshold. `can_buy` is false: whether the asker may buy is the caller's to say.
pub async fn read(
    db: &Db,
    config: &Config,
    owner: &Owner,
    now: i64,
) -> Result<WalletSummary, AppError> {
    let alert = low_balance::state(db, owner).await?;
    let per_day = ledger::spent_per_day(db, owner, BURN_DAYS, now).await?;
    let first = now.div_euclid(DAY_MS) - BURN_DAYS + 1;
    let included = super::included::left(db, owner).await?;
    // Held for jobs (the wallet's `held`), and what finished jobs cost beyond it.
    let (on_hold, owed): (i64, i64) = sqlx::query_as(
        "SELECT COALESCE((SELECT held FROM wallets WHERE id = $1), 0), \
         CAST(COALESCE((SELECT SUM(owed) FROM jobs WHERE owner_kind = $2 AND owner_id = $3 AND owed > 0), 0) AS BIGINT)",
    )
    .bind(super::wallet_id(owner))
    .bind(owner.kind())
    .bind(owner.id())
    .fetch_one(&db.pool)
    .await?;
    Ok(WalletSummary {
        balance: alert.balance,
        included: included.credits.min(alert.balance.max(0)),
        included_expires_at: included.first_expiry,
        value_minor: alert.balance.saturating_mul(config.credit_price_cents),
        currency: config.currency.clone(),
        low_balance_threshold: alert.threshold,
        can_buy: false,
        on_hold,
        owed,
        spent_per_day: per_day
            .into_iter()
            .enumerate()
            .map(|(i, credits)| DailySpend {
                day_start: (first + i as i64) * DAY_MS,
                credits,
            })
            .collect(),
    })
}
