//! How deeply a JSON text nests, found without parsing it.
//!
//! No Parlor message nests more than a few levels, yet a 1 MiB frame of `[` would make a recursive parser work hard
//! and, in a parser without a limit, overflow its stack. Scanning the bytes first refuses such a frame cheaply, with
//! its own error code, before any parser sees it.

/// The nesting a server allows unless configured otherwise; every message in `docs/PROTOCOL.md` fits in 4.
pub const DEFAULT_MAX_JSON_DEPTH: usize = 16;

/// Whether `text` nests arrays and objects deeper than `max` (brackets inside strings do not count).
pub fn nests_deeper_than(text: &str, max: usize) -> bool {
    // Nesting deeper than `max` needs more than `max` opening brackets. Counting them is a loop the compiler
    // vectorises, so the usual frame (a handful of brackets) skips the byte-by-byte walk below.
    let opening = text.bytes().fold(0usize, |n, b| n + usize::from(b == b'[' || b == b'{'));
    if opening <= max {
        return false;
    }
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for byte in text.bytes() {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_only_structure_outside_strings() {
        assert!(!nests_deeper_than(r#"{"type":"send","text":"[[[[[[[[[[[[[[[[[[[[[[["}"#, 1));
        assert!(!nests_deeper_than(r#"{"a":{"b":[1]}}"#, 3));
        assert!(nests_deeper_than(r#"{"a":{"b":[1]}}"#, 2));
        assert!(!nests_deeper_than(r#"{"t":"\"[[[["}"#, 1));
        assert!(nests_deeper_than(&"[".repeat(100_000), DEFAULT_MAX_JSON_DEPTH));
        assert!(!nests_deeper_than("]]]]{}", 1));
        assert!(!nests_deeper_than("[][][][]", 1), "many brackets, little depth: the walk decides");
        assert!(nests_deeper_than("[[", 1), "as many brackets as the depth they make");
    }
}
