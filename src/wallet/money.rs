//! Credits and money as people read them. Money is always minor units (cents).

/// "1,234,567" (and "-1,234").
pub fn format_credits(credits: i64) -> String {
    let digits = credits.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if credits < 0 {
        out.push('-');
    }
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// "$1,234.50" for an amount in minor units (cents); other currencies by their code.
pub fn format_money(minor: i64, currency: &str) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    let major = format_credits((abs / 100) as i64);
    let cents = abs % 100;
    match currency {
        "usd" => format!("{sign}${major}.{cents:02}"),
        "eur" => format!("{sign}€{major}.{cents:02}"),
        "gbp" => format!("{sign}£{major}.{cents:02}"),
        other => format!("{sign}{major}.{cents:02} {}", other.to_ascii_uppercase()),
    }
}

/// "5.00" or "5" → 500 minor units.
pub fn parse_money(text: &str) -> Option<i64> {
    let text = text.trim().trim_start_matches('$');
    let (whole, cents) = match text.split_once('.') {
        Some((w, c)) if c.len() <= 2 && !c.is_empty() => (w, format!("{c:0<2}")),
        Some(_) => return None,
        None => (text, "00".to_string()),
    };
    let whole: i64 = whole
        .replace(',', "")
        .parse()
        .ok()
        .filter(|w: &i64| *w >= 0)?;
    let cents: i64 = cents.parse().ok()?;
    whole.checked_mul(100)?.checked_add(cents)
}

/// "1,000" or "1000" credits (at least 1, at most `max`), or empty for none; None for
/// anything else, so the caller can say what to type beside its field.
pub fn parse_optional_credits(text: &str, max: i64) -> Option<Option<i64>> {
    let digits: String = text
        .trim()
        .chars()
        .filter(|c| *c != ',' && *c != '_')
        .collect();
    if digits.is_empty() {
        return Some(None);
    }
    match digits.parse::<i64>() {
        Ok(n) if (1..=max).contains(&n) => Some(Some(n)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_input_becomes_minor_units() {
        assert_eq!(parse_money("5"), Some(500));
        assert_eq!(parse_money("5.5"), Some(550));
        assert_eq!(parse_money("$1,234.05"), Some(123_405));
        assert_eq!(parse_money("0.99"), Some(99));
        assert_eq!(parse_money("5.123"), None);
        assert_eq!(parse_money("-5"), None);
        assert_eq!(parse_money("five"), None);
        assert_eq!(parse_money("5."), None);
    }

    #[test]
    fn numbers_read_like_money() {
        assert_eq!(format_credits(0), "0");
        assert_eq!(format_credits(999), "999");
        assert_eq!(format_credits(1_000), "1,000");
        assert_eq!(format_credits(-1_234_567), "-1,234,567");
        assert_eq!(format_credits(i64::MIN), "-9,223,372,036,854,775,808");
        assert_eq!(format_money(5, "usd"), "$0.05");
        assert_eq!(format_money(123_456, "usd"), "$1,234.56");
        assert_eq!(format_money(-250, "eur"), "-€2.50");
        assert_eq!(format_money(100, "chf"), "1.00 CHF");
    }
}
