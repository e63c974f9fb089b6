//! The fast walk: one JSON record read byte by byte along the path tree.
//!
//! It reads what contact-center exports are made of (objects, strings
//! without escapes, integers, `true`, `false`, `null`) and gives up
//! (`None`) on anything else, valid JSON or not: a string with an escape,
//! a fraction or an exponent it cannot copy as written, nesting deeper than
//! [`MAX_NESTING`], a syntax error. The serde walk then reads the record
//! from the start and decides, so a record's result and error message never
//! depend on which walk read it. What this walk saves is serde's per-token
//! machinery: strings are found eight bytes at a time, numbers are kept as
//! written (no `u64` parsed and printed back), keys are compared in place.

use std::borrow::Cow;

use serde::de::DeserializeSeed;

use super::{JsonVal, NodeSeed, PathTree, mark_null, mark_scalar, mark_wrong};

/// Objects and arrays nested deeper give up (serde_json's own limit is
/// 128, so the serde walk still decides on those records).
const MAX_NESTING: usize = 100;

/// The walk gave up; the serde walk decides.
struct GiveUp;

type Step<T> = Result<T, GiveUp>;

/// Reads the fields of `tree` out of `text` into `out` (all `Absent`
/// before), or gives up, leaving `out` partly written.
pub(super) fn walk<'r>(tree: &PathTree, text: &'r str, out: &mut [JsonVal<'r>]) -> Option<()> {
    let mut s = Scan { text, i: 0 };
    s.ws();
    if s.peek() != Some(b'{') {
        return None;
    }
    s.object(tree, 0, 1, out).ok()?;
    s.ws();
    (s.i == s.bytes().len()).then_some(())
}

struct Scan<'r> {
    text: &'r str,
    /// The next byte to read.
    i: usize,
}

/// The bytes of `x` that end or interrupt a plain string: `"`, `\` and the
/// control characters below 0x20, as the high bit of each such byte. Only
/// the lowest flagged byte is exact (a borrow can flag bytes above it),
/// which is the one the string scan uses.
fn special_bytes(x: u64) -> u64 {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let zero = |v: u64| v.wrapping_sub(LO) & !v & HI;
    let quote = zero(x ^ (LO * u64::from(b'"')));
    let backslash = zero(x ^ (LO * u64::from(b'\\')));
    let control = x.wrapping_sub(LO * 0x20) & !x & HI;
    quote | backslash | control
}

impl<'r> Scan<'r> {
    fn bytes(&self) -> &'r [u8] {
        self.text.as_bytes()
    }

    fn peek(&self) -> Option<u8> {
        self.bytes().get(self.i).copied()
    }

    /// Skips JSON whitespace (what serde_json skips).
    fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.peek() {
            self.i += 1;
        }
    }

    /// Consumes byte `c`, or gives up.
    fn eat(&mut self, c: u8) -> Step<()> {
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            Err(GiveUp)
        }
    }

    /// A string without escapes or control characters, at its opening
    /// quote: its text, borrowed.
    fn string(&mut self) -> Step<&'r str> {
        let start = self.i + 1;
        let mut j = start;
        loop {
            if let Some(chunk) = self.bytes().get(j..j + 8) {
                let mut word = [0u8; 8];
                word.copy_from_slice(chunk);
                let hit = special_bytes(u64::from_le_bytes(word));
                if hit == 0 {
                    j += 8;
                    continue;
                }
                j += (hit.trailing_zeros() / 8) as usize;
            }
            match self.bytes().get(j) {
                Some(b'"') => break,
                Some(&c) if c >= 0x20 && c != b'\\' => j += 1,
                // An escape (serde unescapes), a control character, or
                // the end of the record.
                _ => return Err(GiveUp),
            }
        }
        self.i = j + 1;
        // The text is valid UTF-8 and both ends are ASCII quotes, so
        // these are character boundaries.
        self.text.get(start..j).ok_or(GiveUp)
    }

    /// A number: its text and whether it is an integer of at most 18
    /// digits (whose `u64`/`i64` serde_json prints back as written).
    fn number(&mut self) -> Step<(&'r str, bool)> {
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        let digits_from = self.i;
        match self.peek() {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(GiveUp),
        }
        let mut plain = self.i - digits_from <= 18;
        if self.peek() == Some(b'.') {
            plain = false;
            self.i += 1;
            self.some_digits()?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            plain = false;
            self.i += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            self.some_digits()?;
        }
        let text = self.text.get(start..self.i).ok_or(GiveUp)?;
        // serde_json reads `-0` as a float.
        Ok((text, plain && text != "-0"))
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.i += 1;
        }
    }

    /// One digit or more.
    fn some_digits(&mut self) -> Step<()> {
        let from = self.i;
        self.digits();
        if self.i > from { Ok(()) } else { Err(GiveUp) }
    }

    fn literal(&mut self, word: &[u8]) -> Step<()> {
        if self.bytes().get(self.i..self.i + word.len()) == Some(word) {
            self.i += word.len();
            Ok(())
        } else {
            Err(GiveUp)
        }
    }

    /// After a member or element: `,` (another follows) or `close`.
    fn more(&mut self, close: u8) -> Step<bool> {
        self.ws();
        match self.peek() {
            Some(b',') => {
                self.i += 1;
                self.ws();
                Ok(true)
            }
            Some(c) if c == close => {
                self.i += 1;
                Ok(false)
            }
            _ => Err(GiveUp),
        }
    }

    /// Skips any value, checking its syntax.
    fn skip(&mut self, nesting: usize) -> Step<()> {
        match self.peek() {
            Some(b'"') => self.string().map(drop),
            Some(b'{') => self.skip_members(nesting + 1),
            Some(b'[') => self.skip_elements(nesting + 1),
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'n') => self.literal(b"null"),
            Some(b'-' | b'0'..=b'9') => self.number().map(drop),
            _ => Err(GiveUp),
        }
    }

    /// Enters an object or array at its opening byte, nested `nesting`
    /// deep: whether it is empty (and so already closed by `close`).
    fn open(&mut self, nesting: usize, close: u8) -> Step<bool> {
        if nesting > MAX_NESTING {
            return Err(GiveUp);
        }
        self.i += 1;
        self.ws();
        let empty = self.peek() == Some(close);
        if empty {
            self.i += 1;
        }
        Ok(empty)
    }

    /// Skips an object, at its `{`.
    fn skip_members(&mut self, nesting: usize) -> Step<()> {
        self.members(nesting, |s, _| s.skip(nesting))
    }

    /// An object, at its `{`: `value` reads each member's value, given its
    /// key.
    fn members(
        &mut self,
        nesting: usize,
        mut value: impl FnMut(&mut Self, &'r str) -> Step<()>,
    ) -> Step<()> {
        if self.open(nesting, b'}')? {
            return Ok(());
        }
        loop {
            if self.peek() != Some(b'"') {
                return Err(GiveUp);
            }
            let key = self.string()?;
            self.ws();
            self.eat(b':')?;
            self.ws();
            value(self, key)?;
            if !self.more(b'}')? {
                return Ok(());
            }
        }
    }

    /// Skips an array, at its `[`.
    fn skip_elements(&mut self, nesting: usize) -> Step<()> {
        if self.open(nesting, b']')? {
            return Ok(());
        }
        loop {
            self.skip(nesting)?;
            if !self.more(b']')? {
                return Ok(());
            }
        }
    }

    /// An object whose members `node` reads, at its `{`; `depth` keys from
    /// the root.
    fn object(
        &mut self,
        node: &PathTree,
        depth: usize,
        nesting: usize,
        out: &mut [JsonVal<'r>],
    ) -> Step<()> {
        self.members(nesting, |s, key| match node.child(key) {
            None => s.skip(nesting),
            Some(child) => s.value(child, depth + 1, nesting, out),
        })
    }

    /// The value at `node` (not the record itself), as the serde walk
    /// reads it (`NodeSeed`).
    fn value(
        &mut self,
        node: &PathTree,
        depth: usize,
        nesting: usize,
        out: &mut [JsonVal<'r>],
    ) -> Step<()> {
        let (kind, text) = match self.peek() {
            Some(b'{') if node.children.is_empty() => {
                self.skip_members(nesting + 1)?;
                mark_wrong(node, depth, "object", out);
                return Ok(());
            }
            Some(b'{') => return self.object(node, depth, nesting + 1, out),
            Some(b'[') => {
                self.skip_elements(nesting + 1)?;
                mark_wrong(node, depth, "array", out);
                return Ok(());
            }
            Some(b'n') => {
                self.literal(b"null")?;
                mark_null(node, out);
                return Ok(());
            }
            Some(b'"') => ("string", self.string()?),
            Some(b't') => ("boolean", self.literal(b"true").map(|()| "true")?),
            Some(b'f') => ("boolean", self.literal(b"false").map(|()| "false")?),
            Some(b'-' | b'0'..=b'9') => {
                let (text, plain) = self.number()?;
                if !plain {
                    // A fraction, an exponent or a long integer: what serde
                    // makes of it, from the number alone.
                    let mut de = serde_json::Deserializer::from_str(text);
                    let seed = NodeSeed {
                        node,
                        depth,
                        out,
                        top: false,
                    };
                    return seed.deserialize(&mut de).map_err(|_| GiveUp);
                }
                ("number", text)
            }
            _ => return Err(GiveUp),
        };
        mark_scalar(node, depth, kind, Cow::Borrowed(text), out);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::{JsonVal, PathTree, walk_serde};
    use super::walk;

    fn tree() -> (PathTree, usize) {
        let paths: Vec<Vec<String>> = ["id", "q.name", "q.wait", "a.user", "a", "x.y.z", "n"]
            .iter()
            .map(|p| p.split('.').map(str::to_string).collect())
            .collect();
        (PathTree::build(&paths), paths.len())
    }

    /// Both walks over `text`: the fast one's result (`None` when it gave
    /// up) and the reference.
    fn both(text: &str) -> (Option<Vec<JsonVal<'_>>>, Result<Vec<JsonVal<'_>>, String>) {
        let (tree, n) = tree();
        let mut fast = vec![JsonVal::Absent; n];
        let fast = walk(&tree, text, &mut fast).map(|()| fast);
        let mut slow = vec![JsonVal::Absent; n];
        let slow = walk_serde(&tree, text, &mut slow)
            .map(|()| slow)
            .map_err(|(_, m)| m);
        (fast, slow)
    }

    /// The fast walk reads these itself, with the reference's result.
    #[test]
    fn reads_plain_records_like_serde() {
        for text in [
            r#"{"id":"c1","q":{"name":"billing","wait":42},"a":{"user":"A1"},"n":-17}"#,
            r#" { "id" : "c1" , "q" : { "wait" : 0 , "name" : "" } } "#,
            r#"{"id":12345678901234,"q":null,"a":null,"x":{"y":null},"n":true}"#,
            r#"{"id":"ü€𝄞","other":[1,{"deep":[[],{}]},"s",false,null,-0.5e-3],"n":false}"#,
            r#"{"q":"flat","a":{"user":{"o":1}},"x":{"y":{"z":[1]}}}"#,
            r#"{"q":{"name":["x"]},"a":7,"x":3,"id":{"k":"v"}}"#,
            r#"{"id":"first","id":"second","q":{"name":"a"},"q":{"wait":5}}"#,
            r#"{"id":"long string of more than eight bytes, and more","n":"0"}"#,
            "{\"id\":\"tab\tin\"}",
            r#"{"q":{"wait":1.5},"n":-0}"#,
            r#"{"q":{"wait":1E3},"n":-12.5e-1}"#,
            r#"{"q":{"wait":123456789012345678901234567890},"n":-9223372036854775809}"#,
            "{}",
            "{\"id\":\"a\"}\r\n",
        ] {
            let (fast, slow) = both(text);
            if text.contains('\t') {
                assert_eq!(fast, None, "a raw tab is a control character: {text}");
                assert!(slow.is_err(), "{text}");
                continue;
            }
            let slow = slow.unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(fast.as_ref(), Some(&slow), "{text}");
        }
    }

    /// What the fast walk gives up on is read by serde alone.
    #[test]
    fn gives_up_where_serde_decides() {
        let deep = format!("{{\"o\":{}1{}}}", "[".repeat(120), "]".repeat(120));
        for text in [
            r#"{"id":"a\"b"}"#,
            r#"{"i\u0064":"a"}"#,
            r#"{"q":{"wait":1e999}}"#,
            r#"{"id":"a",}"#,
            r#"{"id":01}"#,
            r#"{"id":"a"} {"#,
            r#"{"id":nul}"#,
            r#"{"id":"a""#,
            r#"["id"]"#,
            "null",
            "",
            &deep,
        ] {
            let (fast, slow) = both(text);
            match fast {
                None => {}
                Some(v) => panic!("{text}: the fast walk read {v:?}, serde {slow:?}"),
            }
        }
    }

    /// Numbers the fast walk hands to serde one at a time keep the rest of
    /// the record on the fast walk.
    #[test]
    fn a_fraction_is_read_alone_by_serde() {
        let (fast, slow) = both(r#"{"id":"c","q":{"wait":2.50},"n":12345678901234567890}"#);
        let fast = fast.expect("read by the fast walk");
        assert_eq!(Ok(&fast), slow.as_ref());
        assert_eq!(fast[2], JsonVal::Text("2.5".into()));
        assert_eq!(fast[6], JsonVal::Text("12345678901234567890".into()));
    }
}
