//! Reading a mapping's fields out of one JSON object in a single pass: the
//! mapping's dotted paths form a tree, and the record is walked along it,
//! skipping everything else without building values.
//!
//! Two walks, one meaning. `scan` reads the bytes itself and handles the
//! common record (strings without escapes, integers); on anything else,
//! valid or not, it gives up, and a serde visitor walks the record again.
//! The serde walk is the reference: its results and error messages are
//! what a record gets, and the fast walk is tested (and fuzzed) to give the
//! same results whenever it does not give up.

mod scan;

use std::borrow::Cow;

use crate::reason::ReasonCode;
use crate::row::Problem;

/// A mapping's JSON paths as a tree, so one pass over a record picks out
/// the fields it needs and skips everything else without building values.
#[derive(Debug, Default)]
pub(super) struct PathTree {
    children: Vec<(String, PathTree)>,
    /// The field id of the path ending here.
    leaf: Option<usize>,
}

impl PathTree {
    pub(super) fn build(paths: &[Vec<String>]) -> PathTree {
        let mut root = PathTree::default();
        for (id, path) in paths.iter().enumerate() {
            if path.is_empty() {
                // A path into arrays, read from the parsed record.
                continue;
            }
            let mut node = &mut root;
            for key in path {
                let i = match node.children.iter().position(|(k, _)| k == key) {
                    Some(i) => i,
                    None => {
                        node.children.push((key.clone(), PathTree::default()));
                        node.children.len() - 1
                    }
                };
                node = &mut node.children[i].1;
            }
            node.leaf = Some(id);
        }
        root
    }

    fn child(&self, key: &str) -> Option<&PathTree> {
        // Length and first byte rule out most keys without a memcmp.
        let first = key.as_bytes().first();
        self.children
            .iter()
            .find(|(k, _)| k.len() == key.len() && k.as_bytes().first() == first && k == key)
            .map(|(_, c)| c)
    }

    /// Calls `f` with the field id of every path ending at or below here.
    fn each_leaf(&self, f: &mut impl FnMut(usize)) {
        if let Some(id) = self.leaf {
            f(id);
        }
        for (_, c) in &self.children {
            c.each_leaf(f);
        }
    }
}

/// A field's value in a JSON record.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum JsonVal<'r> {
    /// Not in the record.
    Absent,
    /// In the record, as null (or below a null object on its path): no
    /// value, but the export has the field.
    Null,
    /// A string's text, or a number or boolean as written.
    Text(Cow<'r, str>),
    /// The path met a value of this JSON type after this many keys (the
    /// whole path: the value itself is an object or array).
    Wrong(&'static str, usize),
}

/// The fields a mapping reads from one JSON object.
#[derive(Debug)]
pub struct JsonRecord<'r> {
    pub(super) vals: Vec<JsonVal<'r>>,
}

impl<'r> JsonRecord<'r> {
    /// Marks in `seen` the mapping's fields this record has (with a value
    /// or as null): a field never seen in a file is missing from it.
    pub fn mark_present(&self, seen: &mut [bool]) {
        for (s, v) in seen.iter_mut().zip(&self.vals) {
            *s |= *v != JsonVal::Absent;
        }
    }

    /// Parses one JSON object, keeping only the `fields` fields whose
    /// paths form `tree`.
    pub(super) fn parse(
        tree: &PathTree,
        fields: usize,
        rec: &'r [u8],
    ) -> Result<JsonRecord<'r>, Problem> {
        // Validated once, SIMD-fast, so neither walk need check each
        // string again (serde's `from_str`).
        let text = simdutf8::basic::from_utf8(rec).map_err(|_| {
            let at = std::str::from_utf8(rec)
                .err()
                .map_or(0, |e| e.valid_up_to());
            (
                ReasonCode::InvalidUtf8,
                format!("the record is not valid UTF-8 (byte {at})"),
            )
        })?;
        let mut vals = vec![JsonVal::Absent; fields];
        if scan::walk(tree, text, &mut vals).is_none() {
            vals.fill(JsonVal::Absent);
            walk_serde(tree, text, &mut vals)?;
        }
        Ok(JsonRecord { vals })
    }
}

/// Panics unless the fast walk, when it does not give up on `rec`, reads
/// what the serde walk reads (for the fuzzer: `Mapping::check_json_walks`).
#[cfg(test)]
pub(super) fn check_walks_agree(tree: &PathTree, fields: usize, rec: &[u8]) {
    let Ok(text) = std::str::from_utf8(rec) else {
        return;
    };
    let mut fast = vec![JsonVal::Absent; fields];
    if scan::walk(tree, text, &mut fast).is_none() {
        return;
    }
    let mut slow = vec![JsonVal::Absent; fields];
    match walk_serde(tree, text, &mut slow) {
        Ok(()) => assert_eq!(fast, slow, "the walks differ on {text:?}"),
        Err((_, msg)) => panic!("the fast walk read {text:?}, which serde rejects: {msg}"),
    }
}

/// The reference walk: serde_json reads `text` along `tree` into `vals`
/// (all `Absent` before).
fn walk_serde<'r>(tree: &PathTree, text: &'r str, vals: &mut [JsonVal<'r>]) -> Result<(), Problem> {
    let mut de = serde_json::Deserializer::from_str(text);
    let seed = NodeSeed {
        node: tree,
        depth: 0,
        out: vals,
        top: true,
    };
    serde::de::DeserializeSeed::deserialize(seed, &mut de)
        .and_then(|()| de.end())
        .map_err(|e| {
            let msg = if e.is_data() {
                "the record is not a JSON object".to_string()
            } else {
                format!("invalid JSON: {e}")
            };
            (ReasonCode::MalformedRow, msg)
        })
}

/// A value of JSON type `kind` at `node`, `depth` keys from the root, where
/// the mapping expects something else: every field below is wrong.
fn mark_wrong(node: &PathTree, depth: usize, kind: &'static str, out: &mut [JsonVal<'_>]) {
    node.each_leaf(&mut |id| {
        let depth = if Some(id) == node.leaf {
            usize::MAX
        } else {
            depth
        };
        out[id] = JsonVal::Wrong(kind, depth);
    });
}

/// A null at `node`: every field below not yet seen is present without a
/// value.
fn mark_null(node: &PathTree, out: &mut [JsonVal<'_>]) {
    node.each_leaf(&mut |id| {
        if out[id] == JsonVal::Absent {
            out[id] = JsonVal::Null;
        }
    });
}

/// A string, number or boolean (`kind`) at `node` below the record: the
/// text of a leaf, or a wrong type where an object is expected.
fn mark_scalar<'r>(
    node: &PathTree,
    depth: usize,
    kind: &'static str,
    text: Cow<'r, str>,
    out: &mut [JsonVal<'r>],
) {
    match node.leaf {
        Some(id) if node.children.is_empty() => out[id] = JsonVal::Text(text),
        _ => mark_wrong(node, depth, kind, out),
    }
}

/// Visits the value at one node of the path tree.
struct NodeSeed<'a, 'r> {
    node: &'a PathTree,
    /// Keys from the root to this node.
    depth: usize,
    out: &'a mut [JsonVal<'r>],
    /// The record itself, which must be an object.
    top: bool,
}

impl<'de> NodeSeed<'_, 'de> {
    /// A value of the wrong type here: every field below is wrong.
    fn wrong<E: serde::de::Error>(self, kind: &'static str) -> Result<(), E> {
        if self.top {
            return Err(E::custom("not an object"));
        }
        mark_wrong(self.node, self.depth, kind, self.out);
        Ok(())
    }

    /// A string, number or boolean: the text of a leaf, or a wrong type
    /// where an object is expected.
    fn scalar<E: serde::de::Error>(self, kind: &'static str, text: Cow<'de, str>) -> Result<(), E> {
        if self.top {
            return Err(E::custom("not an object"));
        }
        mark_scalar(self.node, self.depth, kind, text, self.out);
        Ok(())
    }
}

impl<'de> serde::de::DeserializeSeed<'de> for NodeSeed<'_, 'de> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for NodeSeed<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        if self.node.children.is_empty() && !self.top {
            // A leaf holding an object: wrong, but the rest is read.
            while map
                .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
                .is_some()
            {}
            return self.wrong("object");
        }
        let out = self.out;
        while let Some(key) = map.next_key_seed(KeySeed)? {
            match self.node.child(&key) {
                None => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
                Some(child) => map.next_value_seed(NodeSeed {
                    node: child,
                    depth: self.depth + 1,
                    out: &mut *out,
                    top: false,
                })?,
            }
        }
        Ok(())
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        self.wrong("array")
    }

    fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<(), E> {
        self.scalar("string", Cow::Borrowed(v))
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<(), E> {
        self.scalar("string", Cow::Owned(v.to_string()))
    }

    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<(), E> {
        self.scalar("string", Cow::Owned(v))
    }

    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<(), E> {
        self.scalar("boolean", Cow::Borrowed(if v { "true" } else { "false" }))
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<(), E> {
        self.scalar("number", Cow::Owned(v.to_string()))
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<(), E> {
        self.scalar("number", Cow::Owned(v.to_string()))
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<(), E> {
        self.scalar("number", Cow::Owned(v.to_string()))
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        if self.top {
            return Err(E::custom("not an object"));
        }
        mark_null(self.node, self.out);
        Ok(())
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<(), E> {
        self.visit_unit()
    }
}

/// An object key, borrowed from the record when it has no escapes.
struct KeySeed;

impl<'de> serde::de::DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Cow<'de, str>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> serde::de::Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a key")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v.to_string()))
    }
}
