//! What a new key may be: its name, scopes and expiry, checked before anything is written.

use super::{normalize_name, Expiry, ScopeInfo, BUILTIN_SCOPES};
use crate::error::{AppError, FieldError};
use crate::infra::unique_rule::UniqueRule;
use crate::time_fmt::DAY_MS;

/// The longest a key may live when it expires at all.
pub const MAX_EXPIRY_DAYS: i64 = 5 * 366;

/// Input for a new key, as the create dialog and `POST /api/v1/keys` send it.
pub struct NewKey {
    pub name: String,
    pub scopes: Vec<String>,
    pub expiry: Expiry,
    /// The latest the key may expire (a key created by a key lives no longer than it).
    pub not_after: Option<i64>,
}

/// A new key whose fields passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidKey {
    pub name: String,
    /// Space-separated, in the catalog's order.
    pub scopes: String,
    pub expires_at: Option<i64>,
    /// Set for "N days" expiries: regenerating renews the key for that long again.
    pub ttl_days: Option<i64>,
}

/// The built-in scopes followed by the operator's.
pub fn catalog(extra: impl IntoIterator<Item = ScopeInfo>) -> Vec<ScopeInfo> {
    BUILTIN_SCOPES
        .iter()
        .map(|(name, description)| ScopeInfo {
            name: name.to_string(),
            description: description.to_string(),
        })
        .chain(extra)
        .collect()
}

/// Checks a new key's fields; every problem is reported beside its field, once.
pub fn validate(catalog: &[ScopeInfo], input: &NewKey, now: i64) -> Result<ValidKey, AppError> {
    let mut errors = Vec::new();
    let name = normalize_name(&input.name).map_err(|e| errors.push(e)).ok();
    let scopes = match scope_list(catalog, &input.scopes) {
        Ok(scopes) => Some(scopes),
        Err(e) => {
            errors.push(e);
            None
        }
    };
    let expiry = match expiry(&input.expiry, now) {
        Ok(expiry) => Some(expiry),
        Err(e) => {
            errors.push(e);
            None
        }
    };
    match (name, scopes, expiry) {
        (Some(name), Some(scopes), Some((expires_at, ttl_days))) => {
            Ok(match input.not_after {
                // Held to a fixed date, which regenerating does not renew.
                Some(limit) if expires_at.is_none_or(|at| at > limit) => ValidKey {
                    name,
                    scopes,
                    expires_at: Some(limit),
                    ttl_days: None,
                },
                _ => ValidKey {
                    name,
                    scopes,
                    expires_at,
                    ttl_days,
                },
            })
        }
        _ => Err(AppError::Validation(errors)),
    }
}

fn scope_list(catalog: &[ScopeInfo], requested: &[String]) -> Result<String, FieldError> {
    if requested.is_empty() {
        return Err(FieldError::new("scopes", "Choose at least one scope."));
    }
    if let Some(unknown) = requested
        .iter()
        .find(|s| !catalog.iter().any(|c| &c.name == *s))
    {
        let shown: String = unknown.chars().take(64).collect();
        return Err(FieldError::new(
            "scopes",
            format!("\"{shown}\" is not a scope this server offers."),
        ));
    }
    // The catalog's order, whatever order they were ticked in; duplicates collapse.
    Ok(catalog
        .iter()
        .filter(|c| requested.contains(&c.name))
        .map(|c| c.name.as_str())
        .collect::<Vec<_>>()
        .join(" "))
}

/// (expires_at, ttl_days) for an expiry choice.
fn expiry(choice: &Expiry, now: i64) -> Result<(Option<i64>, Option<i64>), FieldError> {
    match choice {
        Expiry::Never => Ok((None, None)),
        Expiry::Days(days) if (1..=MAX_EXPIRY_DAYS).contains(&i64::from(*days)) => {
            let days = i64::from(*days);
            Ok((Some(now + days * DAY_MS), Some(days)))
        }
        Expiry::Days(_) => Err(FieldError::new(
            "expiry",
            format!("Choose between 1 and {MAX_EXPIRY_DAYS} days."),
        )),
        Expiry::Date(date) => match end_of_day(date) {
            Some(end) if end <= now => Err(FieldError::new("expiry", "Choose a date after today.")),
            Some(end) if end > now + MAX_EXPIRY_DAYS * DAY_MS => Err(FieldError::new(
                "expiry",
                "Choose a date within the next 5 years.",
            )),
            Some(end) => Ok((Some(end), None)),
            None => Err(FieldError::new("expiry", "Enter the date as YYYY-MM-DD.")),
        },
    }
}

/// The first millisecond after the given UTC day.
fn end_of_day(date: &str) -> Option<i64> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let day = time::Date::parse(date.trim(), format).ok()?;
    let next = day.next_day()?.midnight().assume_utc();
    i64::try_from(next.unix_timestamp_nanos() / 1_000_000).ok()
}

/// `UNIQUE (user_id, name)` on `api_keys`: the names of every key one person created.
pub(super) const NAME_PER_CREATOR: UniqueRule = UniqueRule {
    postgres: "api_keys_user_id_name_key",
    sqlite_columns: "api_keys.user_id, api_keys.name",
};
/// The unique index `api_keys_org_name`: the names of an organization's keys.
pub(super) const NAME_PER_ORGANIZATION: UniqueRule = UniqueRule {
    postgres: "api_keys_org_name",
    sqlite_columns: "api_keys.org_id, api_keys.name",
};

pub(super) fn name_used_elsewhere() -> AppError {
    AppError::invalid(
        "name",
        "You created a key with this name in another workspace. Choose another.",
    )
}
pub(super) fn name_taken() -> AppError {
    AppError::invalid(
        "name",
        "You already have a key with this name. Choose another.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(name: &str, scopes: &[&str], expiry: Expiry) -> NewKey {
        NewKey {
            name: name.into(),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            expiry,
            not_after: None,
        }
    }

    #[test]
    fn a_valid_key_is_normalised() {
        let catalog = catalog([]);
        let key = validate(
            &catalog,
            &input(
                " ci ",
                &["keys:write", "account:read", "keys:write"],
                Expiry::Days(2),
            ),
            1_000,
        )
        .unwrap();
        assert_eq!(
            key,
            ValidKey {
                name: "ci".into(),
                scopes: "account:read keys:write".into(),
                expires_at: Some(1_000 + 2 * DAY_MS),
                ttl_days: Some(2),
            }
        );
    }

    #[test]
    fn every_bad_field_gets_exactly_one_message() {
        let catalog = catalog([]);
        let Err(AppError::Validation(errors)) = validate(
            &catalog,
            &input("", &["nope", "also-nope"], Expiry::Days(0)),
            0,
        ) else {
            panic!("accepted")
        };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "scopes", "expiry"]);
    }

    #[test]
    fn a_bound_holds_the_expiry_to_a_fixed_date() {
        let catalog = catalog([]);
        let mut bounded = input("child", &["account:read"], Expiry::Never);
        bounded.not_after = Some(5 * DAY_MS);
        let key = validate(&catalog, &bounded, 0).unwrap();
        assert_eq!((key.expires_at, key.ttl_days), (Some(5 * DAY_MS), None));
        bounded.expiry = Expiry::Days(2);
        let key = validate(&catalog, &bounded, 0).unwrap();
        assert_eq!((key.expires_at, key.ttl_days), (Some(2 * DAY_MS), Some(2)));
    }

    #[test]
    fn fixed_dates_run_through_the_end_of_the_day() {
        let now = 1_795_392_000_000; // 2026-11-23 00:00 UTC
        let (at, ttl) = expiry(&Expiry::Date("2026-11-24".into()), now).unwrap();
        assert_eq!(at, Some(now + 2 * DAY_MS));
        assert_eq!(ttl, None);
        assert!(expiry(&Expiry::Date("2026-11-22".into()), now).is_err());
        assert!(expiry(&Expiry::Date("2040-01-01".into()), now).is_err());
        assert!(expiry(&Expiry::Date("tomorrow".into()), now).is_err());
    }
}
