//! RFC 8785 (JCS) canonical JSON: the one byte form that is hashed and signed.

use serde::Serialize;

/// The canonical bytes of any serialisable value.
///
/// Fails only for values JSON cannot carry (non-finite numbers, maps with non-string keys);
/// none of our types produce such values, so callers treat a failure as a bug in the value.
pub fn canonical<T: Serialize>(value: &T) -> Result<Vec<u8>, CanonicalError> {
    serde_json_canonicalizer::to_vec(value).map_err(|e| CanonicalError(e.to_string()))
}

/// Below this magnitude an integer's RFC 8785 text is its decimal digits (above, JCS writes
/// the nearest double, which the library does for us).
const EXACT_INTEGERS: u64 = 1 << 53;

/// Appends a JSON string in RFC 8785 form: `"` and `\\` escaped, the control characters
/// as `\b \t \n \f \r` or `\u00xx` (lowercase hex), everything else verbatim.
pub(crate) fn write_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            0x08 => b"\\b",
            0x09 => b"\\t",
            0x0a => b"\\n",
            0x0c => b"\\f",
            0x0d => b"\\r",
            0x00..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        if escape.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(b"\\u00");
            out.push(HEX[(b >> 4) as usize]);
            out.push(HEX[(b & 0xf) as usize]);
        } else {
            out.extend_from_slice(escape);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// Appends an unsigned integer as RFC 8785 writes it.
pub(crate) fn write_u64(out: &mut Vec<u8>, n: u64) -> Result<(), CanonicalError> {
    if n < EXACT_INTEGERS {
        out.extend_from_slice(n.to_string().as_bytes());
        Ok(())
    } else {
        out.extend(canonical(&n)?);
        Ok(())
    }
}

/// Appends the RFC 8785 form of a JSON value, without going through the generic serializer:
/// members sorted by their UTF-16 code units, strings as [`write_str`], integers below 2^53
/// as digits, any other number as the library writes it. Byte for byte what [`canonical`]
/// gives for the same value (a property test checks it).
pub(crate) fn write_value(
    out: &mut Vec<u8>,
    value: &serde_json::Value,
) -> Result<(), CanonicalError> {
    use serde_json::Value;
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) if u < EXACT_INTEGERS => out.extend_from_slice(u.to_string().as_bytes()),
            (_, Some(i)) if i.unsigned_abs() < EXACT_INTEGERS => {
                out.extend_from_slice(i.to_string().as_bytes())
            }
            _ => out.extend(canonical(n)?),
        },
        Value::String(s) => write_str(out, s),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(out, item)?;
            }
            out.push(b']');
        }
        Value::Object(map) => write_object(out, map)?,
    }
    Ok(())
}

/// Appends an object's RFC 8785 form (see [`write_value`]).
pub(crate) fn write_object(
    out: &mut Vec<u8>,
    map: &serde_json::Map<String, serde_json::Value>,
) -> Result<(), CanonicalError> {
    let mut members: Vec<(&String, &serde_json::Value)> = map.iter().collect();
    // A map iterates in byte order (or insertion order, with serde_json's `preserve_order`);
    // JCS orders by UTF-16 code units, which differs from byte order beyond the BMP.
    let sorted = members
        .windows(2)
        .all(|w| w[0].0.is_ascii() && w[1].0.is_ascii() && w[0].0 < w[1].0);
    if !sorted {
        members.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
    }
    out.push(b'{');
    for (i, (key, value)) in members.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_str(out, key);
        out.push(b':');
        write_value(out, value)?;
    }
    out.push(b'}');
    Ok(())
}

/// A value that has no RFC 8785 form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("value has no canonical JSON form: {0}")]
pub struct CanonicalError(pub String);

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn jcs_of(text: &str) -> String {
        let value: Value = serde_json::from_str(text).expect("test input is JSON");
        String::from_utf8(canonical(&value).expect("canonical")).expect("utf-8")
    }

    /// RFC 8785 section 3.2.2: the example with literals, numbers and escapes.
    #[test]
    fn rfc8785_sample() {
        let input = r#"{
          "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
          "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
          "literals": [null, true, false]
        }"#;
        assert_eq!(
            jcs_of(input),
            r#"{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}"#
        );
    }

    /// RFC 8785 section 3.2.3: property names sort by their UTF-16 code units.
    #[test]
    fn rfc8785_sorting() {
        let input = r#"{
          "\u20ac": "Euro Sign",
          "\r": "Carriage Return",
          "\ufb33": "Hebrew Letter Dalet With Dagesh",
          "1": "One",
          "\ud83d\ude00": "Emoji: Grinning Face",
          "\u0080": "Control",
          "\u00f6": "Latin Small Letter O With Diaeresis"
        }"#;
        let expected = "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u{80}\":\"Control\",\
                        \"ö\":\"Latin Small Letter O With Diaeresis\",\"€\":\"Euro Sign\",\
                        \"😀\":\"Emoji: Grinning Face\",\"\u{fb33}\":\"Hebrew Letter Dalet With Dagesh\"}";
        assert_eq!(jcs_of(input), expected);
    }

    /// RFC 8785 appendix B: IEEE 754 values and their canonical text.
    #[test]
    fn rfc8785_numbers() {
        let cases = [
            ("0", "0"),
            ("-0.0", "0"),
            ("1e21", "1e+21"),
            ("1e20", "100000000000000000000"),
            ("9007199254740991", "9007199254740991"),
            ("-9007199254740991", "-9007199254740991"),
            ("0.000001", "0.000001"),
            ("1e-7", "1e-7"),
            ("295147905179352830000", "295147905179352830000"),
            ("4.940656458412465e-324", "5e-324"),
            ("1.7976931348623157e308", "1.7976931348623157e+308"),
        ];
        for (input, expected) in cases {
            assert_eq!(jcs_of(input), expected, "number {input}");
        }
    }

    fn fast(value: &Value) -> Vec<u8> {
        let mut out = Vec::new();
        write_value(&mut out, value).expect("canonical");
        out
    }

    /// The fast writer gives the library's bytes on the RFC's own examples.
    #[test]
    fn fast_writer_matches_the_rfc_examples() {
        for text in [
            r#"{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],"string":"\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/","literals":[null,true,false]}"#,
            "{\"\\u20ac\":1,\"\\r\":2,\"\\ufb33\":3,\"1\":4,\"\\ud83d\\ude00\":5,\"\\u0080\":6,\"\\u00f6\":7}",
            r#"[9007199254740991,9007199254740992,-9007199254740993,18446744073709551615,-0.0,1e21]"#,
            "\"\\u0000\\u001f\\u007f\\b\\f\\t\\n\\r\\u2028 ö\"",
        ] {
            let value: Value = serde_json::from_str(text).expect("json");
            assert_eq!(
                String::from_utf8(fast(&value)).expect("utf-8"),
                String::from_utf8(canonical(&value).expect("canonical")).expect("utf-8"),
                "{text}"
            );
        }
    }

    fn arbitrary_json() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            proptest::num::f64::NORMAL.prop_map(Value::from),
            "\\PC{0,12}".prop_map(Value::from),
            "[\\x00-\\x20\"\\\\/\u{7f}\u{80}\u{2028}\u{e000}\u{ffff}\u{10000}\u{1f600}a-z]{0,8}"
                .prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 32, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::from),
                proptest::collection::btree_map(
                    "[\\x00-\\x7f\u{e9}\u{e000}\u{ffff}\u{10000}\u{1f600}]{0,4}",
                    inner,
                    0..5
                )
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        /// For any JSON value, the fast writer and the library agree byte for byte.
        #[test]
        fn fast_writer_equals_the_library(value in arbitrary_json()) {
            proptest::prop_assert_eq!(fast(&value), canonical(&value).expect("canonical"));
        }
    }

    /// Non-ASCII text is kept as UTF-8, never escaped, and never normalised.
    #[test]
    fn swedish_text_is_kept_verbatim() {
        assert_eq!(
            jcs_of(r#"{"namn":"Region Östergötland","b":"Överenskommelse","a":"Norrköping"}"#),
            r#"{"a":"Norrköping","b":"Överenskommelse","namn":"Region Östergötland"}"#
        );
        // "ö" precomposed and "o" + combining diaeresis are different strings and stay so.
        let decomposed = "{\"x\":\"o\u{308}\"}";
        assert_eq!(jcs_of(decomposed), decomposed);
    }
}
