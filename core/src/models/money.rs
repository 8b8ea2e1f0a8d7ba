//! Money, exactly: an amount is a whole number of its currency's minor units
//! (cents for USD, yen for JPY, fils for KWD), never a float. How many
//! decimal places a currency has is ISO 4217's answer ([`minor_digits`]);
//! amounts are parsed from decimal text or JSON numbers by their digits, and
//! formatted back with as many places.

use serde_json::Value;

/// Currencies with no minor unit (ISO 4217 exponent 0).
const ZERO_DECIMAL: [&str; 17] = [
    "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF",
    "XPF",
];

/// Currencies with three decimal places (ISO 4217 exponent 3).
const THREE_DECIMAL: [&str; 7] = ["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"];

/// Currencies with four decimal places (ISO 4217 exponent 4: units of account).
const FOUR_DECIMAL: [&str; 2] = ["CLF", "UYW"];

/// The most an amount may be, in minor units (a trillion: ten billion dollars).
pub const MAX_MINOR: i64 = 1_000_000_000_000;

/// How many decimal places `currency` (ISO 4217, any case) has: 0 for JPY and
/// the other zero-decimal currencies, 3 for KWD, BHD and the other
/// three-decimal ones, 4 for CLF and UYW, 2 for every other code.
pub fn minor_digits(currency: &str) -> u32 {
    let code = currency.trim().to_ascii_uppercase();
    let code = code.as_str();
    if ZERO_DECIMAL.contains(&code) {
        0
    } else if THREE_DECIMAL.contains(&code) {
        3
    } else if FOUR_DECIMAL.contains(&code) {
        4
    } else {
        2
    }
}

/// Formats `minor` units of `currency` with its decimal places:
/// `9999` USD → `99.99`, `1500` JPY → `1500`, `12345` KWD → `12.345`.
pub fn format_minor(minor: i64, currency: &str) -> String {
    let digits = minor_digits(currency);
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    if digits == 0 {
        return format!("{sign}{abs}");
    }
    let scale = 10u64.pow(digits);
    format!("{sign}{}.{:0width$}", abs / scale, abs % scale, width = digits as usize)
}

/// Parses an amount with `digits` decimal places into minor units, exactly:
/// a JSON number or a decimal string (`"19.90"`), with no exponent and no
/// more significant places than the currency has (`"12.3450"` is fine for
/// three, `"1.5"` is not for zero). At most [`MAX_MINOR`] either way.
pub fn parse_amount(v: &Value, digits: u32) -> Result<i64, &'static str> {
    let text = match v {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.trim().to_owned(),
        _ => return Err("must be a number"),
    };
    parse_amount_text(&text, digits)
}

/// [`parse_amount`] of decimal text.
pub fn parse_amount_text(text: &str, digits: u32) -> Result<i64, &'static str> {
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    if unsigned.contains(['e', 'E']) {
        return Err("must be a plain decimal number");
    }
    let (whole, frac) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return Err("must be a decimal number");
    }
    let frac = frac.trim_end_matches('0');
    if frac.len() > digits as usize {
        return Err(match digits {
            0 => "must be a whole number in this currency",
            2 => "must have at most 2 decimal places",
            3 => "must have at most 3 decimal places",
            _ => "has more decimal places than its currency",
        });
    }
    let whole = whole.trim_start_matches('0');
    if whole.len() > 15 {
        return Err("is too large");
    }
    let whole: i64 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| "is too large")? };
    let frac_minor: i64 = if digits == 0 {
        0
    } else {
        format!("{frac:0<width$}", width = digits as usize).parse().map_err(|_| "must be a decimal number")?
    };
    let minor = whole.checked_mul(10i64.pow(digits)).and_then(|w| w.checked_add(frac_minor)).ok_or("is too large")?;
    if minor > MAX_MINOR {
        return Err("is too large");
    }
    Ok(if negative { -minor } else { minor })
}

/// `amount` minor units with `from` decimal places, in units with `to`
/// places; `None` when it would lose a fraction or overflow.
pub fn rescale(amount: i64, from: u32, to: u32) -> Option<i64> {
    if to >= from {
        amount.checked_mul(10i64.checked_pow(to - from)?)
    } else {
        let scale = 10i64.checked_pow(from - to)?;
        (amount % scale == 0).then_some(amount / scale)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn each_currency_has_its_decimal_places() {
        assert_eq!(minor_digits("USD"), 2);
        assert_eq!(minor_digits("eur"), 2);
        assert_eq!(minor_digits("JPY"), 0);
        assert_eq!(minor_digits("krw"), 0);
        assert_eq!(minor_digits("KWD"), 3);
        assert_eq!(minor_digits("BHD"), 3);
        assert_eq!(minor_digits("CLF"), 4);
        assert_eq!(minor_digits("XYZ"), 2, "an unknown code has two");
    }

    #[test]
    fn formats_with_the_currency_s_places() {
        assert_eq!(format_minor(9999, "USD"), "99.99");
        assert_eq!(format_minor(5, "EUR"), "0.05");
        assert_eq!(format_minor(-150, "USD"), "-1.50");
        assert_eq!(format_minor(0, "USD"), "0.00");
        assert_eq!(format_minor(1500, "JPY"), "1500");
        assert_eq!(format_minor(-7, "JPY"), "-7");
        assert_eq!(format_minor(12_345, "KWD"), "12.345");
        assert_eq!(format_minor(5, "KWD"), "0.005");
        assert_eq!(format_minor(i64::MIN, "USD"), "-92233720368547758.08");
    }

    #[test]
    fn parses_exactly_by_the_currency_s_places() {
        assert_eq!(parse_amount(&json!(99.99), 2), Ok(9999));
        assert_eq!(parse_amount(&json!(0.1), 2), Ok(10));
        assert_eq!(parse_amount(&json!("19.90"), 2), Ok(1990));
        assert_eq!(parse_amount(&json!(-1.5), 2), Ok(-150));
        assert_eq!(parse_amount(&json!("1500"), 0), Ok(1500));
        assert_eq!(parse_amount(&json!("1500.00"), 0), Ok(1500));
        assert_eq!(parse_amount(&json!("12.345"), 3), Ok(12_345));
        assert_eq!(parse_amount(&json!("12.3450"), 3), Ok(12_345));
        assert_eq!(parse_amount(&json!("0.005"), 3), Ok(5));
        assert_eq!(parse_amount(&json!("007.50"), 2), Ok(750));
        assert!(parse_amount(&json!("1500.5"), 0).is_err());
        assert!(parse_amount(&json!("12.3456"), 3).is_err());
        assert!(parse_amount(&json!(0.001), 2).is_err());
        assert!(parse_amount(&json!("1e3"), 2).is_err());
        assert!(parse_amount(&json!("abc"), 2).is_err());
        assert!(parse_amount(&json!(""), 2).is_err());
        assert!(parse_amount(&json!("."), 2).is_err());
        assert!(parse_amount(&json!("1.2.3"), 2).is_err());
        assert!(parse_amount(&json!(true), 2).is_err());
        assert!(parse_amount(&json!(1e300), 2).is_err());
        assert!(parse_amount(&json!("9".repeat(400)), 2).is_err());
        assert_eq!(parse_amount(&json!("10000000000.00"), 2), Ok(MAX_MINOR));
        assert!(parse_amount(&json!("10000000000.01"), 2).is_err());
        assert_eq!(parse_amount(&json!(1_000_000_000_000u64), 0), Ok(MAX_MINOR));
    }

    #[test]
    fn rescales_only_without_loss() {
        assert_eq!(rescale(1099, 2, 2), Some(1099));
        assert_eq!(rescale(15, 0, 2), Some(1500));
        assert_eq!(rescale(1500, 2, 0), Some(15));
        assert_eq!(rescale(1550, 2, 0), None);
        assert_eq!(rescale(i64::MAX, 0, 3), None);
    }
}
