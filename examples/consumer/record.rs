//! How a message body is written to the output files: one line per message, whatever the body.
//!
//! ```text
//! body                          record
//! msg-00042                     msg-00042          printable ASCII without `\`: as it is
//! C:\temp                       C:\\temp           `\` doubled
//! two<LF>lines                  two\nlines         a newline
//! <0xff> caf<0xc3><0xa9>        \xff caf\xc3\xa9   any other byte: `\x` and two lowercase hex digits
//! (empty)                       \c                 the empty body
//! ```
//!
//! Invariant E1 (one line): a record is never empty and holds printable ASCII only (0x20 to
//! 0x7e), so with the `\n` the file adds, every message is exactly one line of text, readable by
//! `sort | uniq -d`, `grep -c`, and any UTF-8 reader.
//!
//! Invariant E2 (injective): distinct bodies give distinct records. Read left to right, a record
//! splits in exactly one way into pieces, each standing for one byte of the body (`\` always
//! starts a piece of fixed length: `\\`, `\n` or `\xHH`), except `\c`, which only ever appears
//! as the whole record of the empty body (inside a longer record, a `c` after a `\` is the end
//! of `\\`). So a record decodes to one body: bash's `printf '%b' "$record"` gives back the
//! body's bytes (its `\c` prints nothing).
//!
//! The record is also the job's id for `--cancel-redis`: an id that fits any Redis client, shell
//! or log line, and equal to the body for the ids one would normally choose.

/// The record of `body` (E1, E2). One allocation, of the record's final size for a body that
/// needs no escape.
pub fn encode(body: &[u8]) -> String {
    if body.is_empty() {
        return EMPTY.to_owned();
    }
    let mut record = String::with_capacity(body.len());
    for &byte in body {
        match byte {
            b'\\' => record.push_str("\\\\"),
            b'\n' => record.push_str("\\n"),
            0x20..=0x7e => record.push(char::from(byte)),
            _ => {
                record.push_str("\\x");
                record.push(char::from(HEX[usize::from(byte >> 4)]));
                record.push(char::from(HEX[usize::from(byte & 0xf)]));
            }
        }
    }
    record
}

/// The record of the empty body: `\c`, which bash's `printf '%b'` also reads as "nothing".
const EMPTY: &str = "\\c";

const HEX: &[u8; 16] = b"0123456789abcdef";

#[cfg(test)]
mod tests {
    use super::encode;
    use proptest::prelude::*;

    /// The inverse of [`encode`], written independently of it: `None` for text that no body
    /// encodes to. Only the tests need it.
    fn decode(record: &str) -> Option<Vec<u8>> {
        if record == "\\c" {
            return Some(Vec::new());
        }
        if record.is_empty() {
            return None;
        }
        let mut body = Vec::new();
        let mut rest = record.as_bytes();
        while let Some((&first, after)) = rest.split_first() {
            rest = after;
            if first != b'\\' {
                if !(0x20..=0x7e).contains(&first) {
                    return None;
                }
                body.push(first);
                continue;
            }
            let (byte, after) = match rest {
                [b'\\', after @ ..] => (b'\\', after),
                [b'n', after @ ..] => (b'\n', after),
                [b'x', high, low, after @ ..] => (16 * lower_hex(*high)? + lower_hex(*low)?, after),
                _ => return None,
            };
            body.push(byte);
            rest = after;
        }
        Some(body)
    }

    fn lower_hex(digit: u8) -> Option<u8> {
        match digit {
            b'0'..=b'9' => Some(digit - b'0'),
            b'a'..=b'f' => Some(digit - b'a' + 10),
            _ => None,
        }
    }

    #[test]
    fn the_documented_examples() {
        assert_eq!(encode(b"msg-00042"), "msg-00042");
        assert_eq!(encode(b"C:\\temp"), "C:\\\\temp");
        assert_eq!(encode(b"two\nlines"), "two\\nlines");
        assert_eq!(encode(b"\xff caf\xc3\xa9"), "\\xff caf\\xc3\\xa9");
        assert_eq!(encode(b""), "\\c");
        assert_eq!(encode(b"\\c"), "\\\\c", "a body spelling the empty record");
        assert_eq!(encode(b"\r\t\x00\x7f"), "\\x0d\\x09\\x00\\x7f");
        assert_eq!(
            encode(b" spaced "),
            " spaced ",
            "spaces stay, even at the ends"
        );
    }

    #[test]
    fn every_single_byte_body_is_one_line_and_decodes_back() {
        for byte in 0..=u8::MAX {
            let record = encode(&[byte]);
            assert!(
                record.bytes().all(|b| (0x20..=0x7e).contains(&b)),
                "{byte:#04x}: {record:?}"
            );
            assert_eq!(decode(&record), Some(vec![byte]), "{record:?}");
        }
    }

    proptest! {
        /// E1 and E2: one non-empty line of printable ASCII, and the body comes back from it
        /// (so two bodies with one record would be one body).
        #[test]
        fn records_are_one_line_and_decode_to_the_body(body in proptest::collection::vec(any::<u8>(), 0..64)) {
            let record = encode(&body);
            prop_assert!(!record.is_empty());
            prop_assert!(record.bytes().all(|b| (0x20..=0x7e).contains(&b)), "{:?}", record);
            prop_assert_eq!(decode(&record), Some(body));
        }

        /// Bodies biased towards the escapes, where collisions would hide.
        #[test]
        fn escape_heavy_bodies_decode_back(body in proptest::collection::vec(prop::sample::select(&b"\\cnx0af\n\xff"[..]), 0..16)) {
            prop_assert_eq!(decode(&encode(&body)), Some(body));
        }

        /// Printable ASCII without a backslash: written exactly as before the encoding existed.
        #[test]
        fn plain_ascii_is_unchanged(body in "[ -\\[\\]-~]{1,64}") {
            prop_assert_eq!(encode(body.as_bytes()), body);
        }
    }
}
