//! `DURATION` on the command line: a whole number and a unit, `500ms`, `30s`, `2m`, `1h`.
//!
//! Hand-written rather than a dependency: four units and no fractions are all `--timeout` needs,
//! and what is accepted stays exactly what the usage says.

use std::time::Duration;

/// The accepted units, each with its length in milliseconds. `ms` comes before `m` and `s` so
/// that the longest suffix is tried first.
const UNITS: [(&str, u64); 4] = [("ms", 1), ("s", 1_000), ("m", 60_000), ("h", 3_600_000)];

/// Parses `text` as a whole number of `ms`, `s`, `m` or `h`; the error is the reason, one line.
/// Zero is accepted (`0s`: look once, do not wait).
pub fn parse(text: &str) -> Result<Duration, String> {
    let Some((digits, millis_per_unit)) = UNITS
        .iter()
        .find_map(|&(unit, millis)| text.strip_suffix(unit).map(|digits| (digits, millis)))
    else {
        return Err(format!(
            "{text:?} needs a unit: ms, s, m or h (like 500ms, 30s, 2m)"
        ));
    };
    // `u64::from_str` takes a leading `+`: the usage does not, so digits only.
    if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(format!(
            "{text:?} is not a whole number and a unit (like 500ms, 30s, 2m)"
        ));
    }
    digits
        .parse::<u64>()
        .ok()
        .and_then(|count| count.checked_mul(millis_per_unit))
        .map(Duration::from_millis)
        .ok_or_else(|| format!("{text:?} is too long"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_numbers_with_a_unit() {
        assert_eq!(parse("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse("0s"), Ok(Duration::ZERO));
    }

    #[test]
    fn anything_else_is_an_error() {
        for text in [
            "", "5", "s", "ms", "-1s", "+1s", "1.5s", "1 s", "1sec", "1d", "5S", "ms5", "१s",
        ] {
            assert!(parse(text).is_err(), "{text:?} was accepted");
        }
        assert!(parse("18446744073709551615h").is_err(), "overflow accepted");
        assert!(parse("99999999999999999999s").is_err(), "overflow accepted");
    }
}
