//! Credits and money as people read them. Money is always in the currency's minor
//! units (cents for usd), whose number of decimals `minor_digits` knows.

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

/// How many digits of a currency's amounts come after its decimal point: its minor
/// unit as Stripe charges it (ISO 4217 with Stripe's exceptions). Two for most; none
/// for the yen or the won; three for the Kuwaiti dinar and its like.
pub fn minor_digits(currency: &str) -> u32 {
    match currency.to_ascii_lowercase().as_str() {
        "bif" | "clp" | "djf" | "gnf" | "jpy" | "kmf" | "krw" | "mga" | "pyg" | "rwf" | "ugx"
        | "vnd" | "vuv" | "xaf" | "xof" | "xpf" => 0,
        "bhd" | "jod" | "kwd" | "omr" | "tnd" => 3,
        _ => 2,
    }
}

/// "$1,234.50" for an amount in the currency's minor units (cents for usd, yen for
/// jpy, fils for kwd); other currencies than usd, eur, gbp and jpy by their code.
pub fn format_money(minor: i64, currency: &str) -> String {
    let digits = minor_digits(currency);
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    let scale = 10u64.pow(digits);
    let major = format_credits((abs / scale) as i64);
    let amount = match digits {
        0 => major,
        _ => format!("{major}.{:0width$}", abs % scale, width = digits as usize),
    };
    match currency {
        "usd" => format!("{sign}${amount}"),
        "eur" => format!("{sign}€{amount}"),
        "gbp" => format!("{sign}£{amount}"),
        "jpy" => format!("{sign}¥{amount}"),
        other => format!("{sign}{amount} {}", other.to_ascii_uppercase()),
    }
}

/// An example amount to type in the currency: "5.00", "500" (jpy), "5.000" (kwd).
pub fn example_money(currency: &str) -> String {
    match minor_digits(currency) {
        0 => "500".to_string(),
        digits => format!("5.{}", "0".repeat(digits as usize)),
    }
}

/// "5.00" or "5" → 500 minor units of usd; "500" → 500 of jpy, where "5.5" is refused.
/// A leading currency symbol and thousands separators are allowed.
pub fn parse_money(text: &str, currency: &str) -> Option<i64> {
    let digits = minor_digits(currency) as usize;
    let text = text.trim().trim_start_matches(['$', '€', '£', '¥']);
    let (whole, fraction) = match text.split_once('.') {
        Some((w, f)) if !f.is_empty() && f.len() <= digits => (w, format!("{f:0<digits$}")),
        Some(_) => return None,
        None => (text, "0".repeat(digits)),
    };
    if whole.is_empty() || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let whole: i64 = whole
        .replace(',', "")
        .parse()
        .ok()
        .filter(|w: &i64| *w >= 0)?;
    let fraction: i64 = if digits == 0 {
        0
    } else {
        fraction.parse().ok()?
    };
    whole
        .checked_mul(10i64.pow(digits as u32))?
        .checked_add(fraction)
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
        assert_eq!(parse_money("5", "usd"), Some(500));
        assert_eq!(parse_money("5.5", "usd"), Some(550));
        assert_eq!(parse_money("$1,234.05", "usd"), Some(123_405));
        assert_eq!(parse_money("0.99", "usd"), Some(99));
        assert_eq!(parse_money("5.123", "usd"), None);
        assert_eq!(parse_money("-5", "usd"), None);
        assert_eq!(parse_money("five", "usd"), None);
        assert_eq!(parse_money("5.", "usd"), None);
        assert_eq!(parse_money(".5", "usd"), None);
        assert_eq!(parse_money("5.-1", "usd"), None);
        assert_eq!(parse_money("5.+1", "usd"), None);
    }

    #[test]
    fn minor_units_follow_the_currency() {
        assert_eq!(parse_money("500", "jpy"), Some(500));
        assert_eq!(parse_money("¥1,500", "jpy"), Some(1_500));
        assert_eq!(parse_money("5.5", "jpy"), None);
        assert_eq!(parse_money("1.5", "kwd"), Some(1_500));
        assert_eq!(parse_money("1.005", "kwd"), Some(1_005));
        assert_eq!(parse_money("1.0005", "kwd"), None);
        assert_eq!(format_money(1_500, "jpy"), "¥1,500");
        assert_eq!(format_money(1_005, "kwd"), "1.005 KWD");
        assert_eq!(format_money(-7, "krw"), "-7 KRW");
        assert_eq!(example_money("usd"), "5.00");
        assert_eq!(example_money("jpy"), "500");
        assert_eq!(example_money("bhd"), "5.000");
        for currency in ["usd", "jpy", "kwd", "chf"] {
            for minor in [0, 1, 99, 100, 12_345, 1_000_000_007] {
                let shown = format_money(minor, currency);
                let typed = shown.split(' ').next().unwrap_or_default();
                assert_eq!(parse_money(typed, currency), Some(minor), "{shown}");
            }
        }
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
