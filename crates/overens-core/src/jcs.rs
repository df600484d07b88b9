//! RFC 8785 (JCS) canonical JSON: the one byte form that is hashed and signed.

use serde::Serialize;

/// The canonical bytes of any serialisable value.
///
/// Fails only for values JSON cannot carry (non-finite numbers, maps with non-string keys);
/// none of our types produce such values, so callers treat a failure as a bug in the value.
pub fn canonical<T: Serialize>(value: &T) -> Result<Vec<u8>, CanonicalError> {
    serde_json_canonicalizer::to_vec(value).map_err(|e| CanonicalError(e.to_string()))
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
