//! What a change of plan costs, worked out the way Stripe prorates: the unused part of
//! the period at the old price is credited and the rest of the period at the new price
//! is charged, each rounded to the minor unit. Pure: the provider and the database are
//! `change`'s.

/// A subscription's billing as it stands, or as it would be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Terms {
    pub price_minor: i64,
    pub included_credits: i64,
    /// Length of one period in days (a month 30, a year 365: only compared).
    pub interval_days: i64,
}

/// How a change from one set of terms to another takes effect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quote {
    /// At once: `charge_minor` now, `credits` more included credits for the period.
    /// `new_period`: the billing period restarts now (a longer interval), so the
    /// provider invoices the first new period itself.
    Upgrade {
        charge_minor: i64,
        credits: i64,
        new_period: bool,
    },
    /// At the end of the period paid for; nothing is charged now.
    Downgrade,
    /// To a shorter interval: not offered mid-period.
    ShorterInterval,
}

/// `x × part / whole`, rounded half away from zero (as Stripe rounds prorations).
fn share(x: i64, part: i64, whole: i64) -> i64 {
    if whole <= 0 {
        return 0;
    }
    let scaled = i128::from(x) * i128::from(part);
    let whole = i128::from(whole);
    let rounded = (scaled.abs() * 2 + whole) / (whole * 2);
    i64::try_from(if scaled < 0 { -rounded } else { rounded }).unwrap_or(0)
}

/// The change from `old` to `new` at `at`, in a period from `start` to `end` (all Unix
/// seconds). The same interval at a higher price is an upgrade billed for the rest of
/// the period; at a lower or equal price, a change at its end. A longer interval
/// starts a new period now, charged in full less the unused part of this one.
pub fn quote(old: Terms, new: Terms, start: i64, end: i64, at: i64) -> Quote {
    let period = (end - start).max(0);
    let left = (end - at).clamp(0, period);
    let unused = share(old.price_minor, left, period);
    if new.interval_days < old.interval_days {
        return Quote::ShorterInterval;
    }
    if new.interval_days > old.interval_days {
        return Quote::Upgrade {
            charge_minor: (new.price_minor - unused).max(0),
            credits: new.included_credits,
            new_period: true,
        };
    }
    // The same price is no upgrade: plans that differ only in what they include would
    // otherwise be swapped back and forth for the difference, free.
    if new.price_minor <= old.price_minor {
        return Quote::Downgrade;
    }
    Quote::Upgrade {
        charge_minor: share(new.price_minor, left, period) - unused,
        credits: share(
            (new.included_credits - old.included_credits).max(0),
            left,
            period,
        ),
        new_period: false,
    }
}

/// The days `quote` compares intervals by.
pub fn interval_days(interval: &str) -> i64 {
    if interval == "year" {
        365
    } else {
        30
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MONTH: i64 = 30 * 86_400;
    const STANDARD: Terms = Terms {
        price_minor: 2000,
        included_credits: 2000,
        interval_days: 30,
    };
    const PRO: Terms = Terms {
        price_minor: 8000,
        included_credits: 10_000,
        interval_days: 30,
    };
    const STANDARD_YEARLY: Terms = Terms {
        price_minor: 20_000,
        included_credits: 2000,
        interval_days: 365,
    };

    #[test]
    fn an_upgrade_charges_the_difference_for_what_is_left_of_the_period() {
        let start = 1_800_000_000;
        // Half the period left: half of $80 less half of $20.
        let half = quote(STANDARD, PRO, start, start + MONTH, start + MONTH / 2);
        assert_eq!(
            half,
            Quote::Upgrade {
                charge_minor: 3000,
                credits: 4000,
                new_period: false
            }
        );
        // At the start, the whole difference; at the end, nothing.
        let whole = quote(STANDARD, PRO, start, start + MONTH, start);
        assert!(matches!(
            whole,
            Quote::Upgrade {
                charge_minor: 6000,
                credits: 8000,
                ..
            }
        ));
        let same_price = Terms {
            included_credits: 99_999,
            ..STANDARD
        };
        assert_eq!(
            quote(STANDARD, same_price, start, start + MONTH, start),
            Quote::Downgrade
        );
        let none = quote(STANDARD, PRO, start, start + MONTH, start + MONTH + 5);
        assert!(matches!(
            none,
            Quote::Upgrade {
                charge_minor: 0,
                credits: 0,
                ..
            }
        ));
        // A third left rounds each part to the cent, as the provider's lines do.
        let third = quote(STANDARD, PRO, start, start + 3, start + 2);
        assert!(matches!(
            third,
            Quote::Upgrade {
                charge_minor: 2000,
                ..
            }
        ));
    }

    #[test]
    fn a_cheaper_plan_waits_for_the_period_to_end_and_intervals_only_grow() {
        let start = 1_800_000_000;
        assert_eq!(
            quote(PRO, STANDARD, start, start + MONTH, start + 10),
            Quote::Downgrade
        );
        assert_eq!(
            quote(STANDARD_YEARLY, STANDARD, start, start + MONTH, start + 10),
            Quote::ShorterInterval
        );
        // Monthly to yearly: a new year starts now, less the unused month (a quarter).
        let yearly = quote(STANDARD, STANDARD_YEARLY, start, start + 4, start + 1);
        assert_eq!(
            yearly,
            Quote::Upgrade {
                charge_minor: 18_500,
                credits: 2000,
                new_period: true
            }
        );
    }

    #[test]
    fn shares_round_half_away_from_zero_and_never_divide_by_zero() {
        assert_eq!(share(5, 1, 2), 3);
        assert_eq!(share(-5, 1, 2), -3);
        assert_eq!(share(2000, 1, 3), 667);
        assert_eq!(share(2000, 5, 0), 0);
        assert_eq!(share(i64::MAX, 2, 1), 0);
    }
}
