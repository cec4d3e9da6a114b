//! The wallet's commands: credit grants, promo codes, ledger checks.

use super::explain;
use crate::infra::{config::Config, db::Db};
use crate::wallet::ledger::{self, Posted, Posting};
use crate::wallet::EntryKind;
use crate::workspace::Owner;
use clap::Subcommand;

#[derive(Subcommand)]
pub(super) enum CreditsAction {
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
        /// Make them included credits that expire after this day (YYYY-MM-DD, UTC),
        /// as a plan's are: spent first, and what is left then is removed.
        #[arg(long)]
        expires: Option<String>,
    },
}

#[derive(Subcommand)]
// Parsed once per command run: the size of its largest variant costs nothing.
#[allow(clippy::large_enum_variant)]
pub(super) enum PromoAction {
    /// Create a code: a percentage or a fixed amount off.
    Create {
        code: String,
        /// Percent off, 1 to 100.
        #[arg(long, conflicts_with = "amount", required_unless_present = "amount")]
        percent: Option<i64>,
        /// Money off, e.g. 5.00.
        #[arg(long)]
        amount: Option<String>,
        /// Last day it works (YYYY-MM-DD, UTC).
        #[arg(long)]
        expires: Option<String>,
        /// Total redemptions by everyone.
        #[arg(long)]
        max: Option<i64>,
        /// Minimum purchase, e.g. 10.00.
        #[arg(long)]
        min: Option<String>,
        /// Only for a person's first purchase.
        #[arg(long)]
        first_purchase: bool,
        /// Let one person use it more than once (by default, once per person).
        #[arg(long)]
        many_per_person: bool,
        /// For operators only.
        #[arg(long)]
        note: Option<String>,
        /// What it discounts: credits, subscriptions or both.
        #[arg(long, default_value = "both")]
        applies_to: String,
        /// On subscriptions: once, repeating (for --months) or forever.
        #[arg(long, default_value = "once")]
        duration: String,
        /// How many months a repeating code lasts.
        #[arg(long)]
        months: Option<i64>,
        /// Only these plans, comma-separated (e.g. standard,pro).
        #[arg(long)]
        plans: Option<String>,
    },
    /// List every code with its redemptions.
    List,
    /// Stop a code applying to new orders.
    Deactivate { code: String },
}

#[derive(Subcommand)]
pub(super) enum OrdersAction {
    /// An order's status and every payment event (Stripe webhook) it received.
    Show { order_id: String },
}

const MAX_REASON_CHARS: usize = 200;

pub(super) async fn credits_command(db: &Db, action: CreditsAction) -> Result<(), String> {
    let CreditsAction::Grant {
        email,
        credits,
        reason,
        idempotency_key,
        expires,
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
    let Some(user_id) = crate::auth::admin::user_id_by_email(db, &email)
        .await
        .map_err(explain)?
    else {
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
    let posted = match expires {
        None => ledger::post(db, &posting, now).await,
        Some(day) => {
            let expires_at = crate::time_fmt::end_of_iso_date(&day)
                .ok_or_else(|| format!("--expires is a date such as 2027-01-31, not {day:?}"))?;
            if credits < 0 {
                return Err("--expires grants included credits: a positive number".into());
            }
            let grant = crate::wallet::included::IncludedGrant {
                owner: posting.owner.clone(),
                credits,
                expires_at,
                description: posting.description.clone(),
                actor: posting.actor.clone(),
                reference: None,
                idempotency_key: posting.idempotency_key.clone(),
            };
            crate::wallet::included::grant(db, &grant, now).await
        }
    };
    match posted.map_err(explain)? {
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

pub(super) async fn promo_command(
    db: &Db,
    config: &Config,
    action: PromoAction,
) -> Result<(), String> {
    use crate::wallet::{example_money, format_money, parse_money, promos, NewPromo};
    let now = crate::infra::clock::Clock::default().now_ms();
    match action {
        PromoAction::Create {
            code,
            percent,
            amount,
            expires,
            max,
            min,
            first_purchase,
            many_per_person,
            note,
            applies_to,
            duration,
            months,
            plans,
        } => {
            let money = |text: Option<String>, what: &str| match text {
                None => Ok(None),
                Some(text) => parse_money(&text, &config.currency)
                    .map(Some)
                    .ok_or_else(|| {
                        format!(
                            "{what} is an amount of money such as {}, not {text:?}",
                            example_money(&config.currency)
                        )
                    }),
            };
            let expires_at = match expires {
                None => None,
                Some(text) => Some(crate::time_fmt::end_of_iso_date(&text).ok_or_else(|| {
                    format!("--expires is a date such as 2027-01-31, not {text:?}")
                })?),
            };
            let new = NewPromo {
                code,
                percent_off: percent,
                amount_off_minor: money(amount, "--amount")?,
                expires_at,
                max_redemptions: max,
                once_per_user: !many_per_person,
                min_purchase_minor: money(min, "--min")?,
                first_purchase_only: first_purchase,
                note,
                applies_to,
                plans: plans.unwrap_or_default(),
                duration,
                duration_months: months,
            };
            promos::check_plans(&new, &config.plans).map_err(explain)?;
            let created =
                promos::create(db, &new, "operator (command line)", &config.currency, now)
                    .await
                    .map_err(explain)?;
            println!(
                "{}: {} ({})",
                created.code,
                created.discount,
                match created.applies_to.as_str() {
                    "credits" => "credits".to_string(),
                    other => format!("{other}, {} on subscriptions", created.duration),
                }
            );
            Ok(())
        }
        PromoAction::List => {
            let codes = promos::list(db, &config.currency).await.map_err(explain)?;
            if codes.is_empty() {
                println!("no promo codes");
            }
            for c in codes {
                let limit = c
                    .max_redemptions
                    .map_or("no limit".to_string(), |m| format!("of {m}"));
                let state = if c.active { "active" } else { "inactive" };
                let mut rules = Vec::new();
                if c.once_per_user {
                    rules.push("once per person".to_string());
                }
                if c.first_purchase_only {
                    rules.push("first purchase".to_string());
                }
                if let Some(min) = c.min_purchase_minor {
                    rules.push(format!("min {}", format_money(min, &c.currency)));
                }
                if let Some(at) = c.expires_at {
                    rules.push(format!("until {}", crate::time_fmt::iso_date(at - 1)));
                }
                if c.applies_to != "credits" {
                    rules.push(format!("subscriptions {}", c.duration));
                }
                if c.applies_to != "both" {
                    rules.push(format!("{} only", c.applies_to));
                }
                if !c.plans.is_empty() {
                    rules.push(format!("plans {}", c.plans.join(",")));
                }
                println!(
                    "{}\t{}\t{} redeemed {limit}\t{state}\t{}",
                    c.code,
                    c.discount,
                    c.redeemed,
                    rules.join(", ")
                );
            }
            Ok(())
        }
        PromoAction::Deactivate { code } => {
            if promos::deactivate(db, &code).await.map_err(explain)? {
                println!("{} deactivated", promos::normalize_code(&code));
                Ok(())
            } else {
                Err(format!("no promo code is named {code}"))
            }
        }
    }
}

pub(super) async fn orders_command(db: &Db, action: OrdersAction) -> Result<(), String> {
    let OrdersAction::Show { order_id } = action;
    let (order, events) = crate::wallet::order_history::order_history(db, &order_id)
        .await
        .map_err(explain)?
        .ok_or_else(|| format!("no order {order_id:?}"))?;
    println!(
        "{}: {} ({} credits, {})",
        order.id,
        order.status,
        crate::wallet::format_credits(order.credits),
        crate::wallet::format_money(order.total_minor, &order.currency)
    );
    if let Some(reason) = order.failure_reason {
        println!("failure: {reason}");
    }
    if events.is_empty() {
        println!("no payment events received");
    }
    for e in events {
        println!(
            "{} {} {} (payment {})",
            crate::time_fmt::exact(e.received_at),
            e.kind,
            e.event_id,
            e.payment_id
        );
    }
    Ok(())
}
