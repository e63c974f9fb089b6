//! JSON paths into arrays (SPEC §4.1): `participants[purpose=agent]
//! .sessions[].segments[segmentType=interact].segmentStart` — `key[]` takes
//! every element of an array, `key[field=value]` those whose `field` is
//! that text — and the column's `pick` says which of the matches it reads:
//! `first` (default), `last`, or their `sum` (numbers). A mapping with such
//! a path parses each record once more, as a `serde_json::Value`; mappings
//! without one keep the single streaming pass of `json_paths/`.

use std::borrow::Cow;

use serde_json::Value;

use super::json_paths::JsonVal;

/// Which of a path's matches a column reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Pick {
    First,
    Last,
    Sum,
}

impl Pick {
    pub(super) fn parse(s: &str) -> Option<Pick> {
        match s {
            "first" => Some(Pick::First),
            "last" => Some(Pick::Last),
            "sum" => Some(Pick::Sum),
            _ => None,
        }
    }

    pub(super) fn name(self) -> &'static str {
        match self {
            Pick::First => "first",
            Pick::Last => "last",
            Pick::Sum => "sum",
        }
    }
}

/// One step of a path.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    /// An object key.
    Key(String),
    /// The elements of the array at a key, all or those whose field has
    /// the given text.
    Each(String, Option<(String, String)>),
}

/// A compiled path into arrays, with its pick.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct ArrayPath {
    steps: Vec<Step>,
    pick: Pick,
}

/// Whether a JSON field name is a path into arrays.
pub(super) fn is_array_path(name: &str) -> bool {
    name.contains('[')
}

impl ArrayPath {
    /// Parses `a.b[].c[k=v].d`; the error says what is wrong.
    pub(super) fn parse(path: &str, pick: Pick) -> Result<ArrayPath, String> {
        let mut steps = Vec::new();
        for part in split_outside_brackets(path) {
            let bad = |why: &str| {
                format!(
                    "{path:?} is not a path into arrays: {why} (write key[], or key[field=value])"
                )
            };
            if part.is_empty() {
                return Err(bad("an empty key"));
            }
            match part.split_once('[') {
                None => steps.push(Step::Key(part.to_string())),
                Some((key, rest)) => {
                    let Some(inner) = rest.strip_suffix(']') else {
                        return Err(bad(&format!("{part:?} does not end with ]")));
                    };
                    if key.is_empty() || inner.contains('[') || inner.contains(']') {
                        return Err(bad(&format!("{part:?}")));
                    }
                    let filter = match inner {
                        "" => None,
                        f => match f.split_once('=') {
                            Some((k, v)) if !k.trim().is_empty() => {
                                Some((k.trim().to_string(), v.trim().to_string()))
                            }
                            _ => return Err(bad(&format!("the filter {f:?} is not field=value"))),
                        },
                    };
                    steps.push(Step::Each(key.to_string(), filter));
                }
            }
        }
        if !steps.iter().any(|s| matches!(s, Step::Each(..))) {
            return Err(format!("{path:?} has no [ ]"));
        }
        Ok(ArrayPath { steps, pick })
    }

    /// The value this path picks out of a record.
    pub(super) fn eval<'r>(&self, rec: &Value) -> JsonVal<'r> {
        let mut matches = Vec::new();
        walk(rec, &self.steps, &mut matches);
        if matches.is_empty() {
            return JsonVal::Absent;
        }
        match self.pick {
            Pick::First => scalar(matches[0]),
            Pick::Last => scalar(matches[matches.len() - 1]),
            Pick::Sum => {
                let mut sum = 0f64;
                let mut any = false;
                for m in matches {
                    let n = match m {
                        Value::Null => continue,
                        Value::Number(n) => n.as_f64(),
                        Value::String(s) => s.trim().parse::<f64>().ok(),
                        _ => None,
                    };
                    let Some(n) = n else {
                        return JsonVal::Wrong("non-number", usize::MAX);
                    };
                    sum += n;
                    any = true;
                }
                if !any {
                    return JsonVal::Null;
                }
                let text = if sum.fract() == 0.0 && sum.abs() < 9e15 {
                    format!("{}", sum as i64)
                } else {
                    sum.to_string()
                };
                JsonVal::Text(Cow::Owned(text))
            }
        }
    }
}

/// `path` split on the dots outside `[ ]` (a filter value may hold dots:
/// `[addressTo=a@b.com]`).
fn split_outside_brackets(path: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0usize, 0);
    for (i, c) in path.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            '.' if depth == 0 => {
                out.push(&path[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&path[start..]);
    out
}

fn walk<'v>(v: &'v Value, steps: &[Step], out: &mut Vec<&'v Value>) {
    let Some((step, rest)) = steps.split_first() else {
        out.push(v);
        return;
    };
    match step {
        Step::Key(k) => {
            if let Some(next) = v.get(k) {
                walk(next, rest, out);
            }
        }
        Step::Each(k, filter) => {
            let Some(items) = v.get(k).and_then(Value::as_array) else {
                return;
            };
            for item in items {
                let keep = match filter {
                    None => true,
                    Some((field, want)) => item.get(field).is_some_and(|f| match f {
                        Value::String(s) => s == want,
                        Value::Number(n) => n.to_string() == *want,
                        Value::Bool(b) => b.to_string() == *want,
                        _ => false,
                    }),
                };
                if keep {
                    walk(item, rest, out);
                }
            }
        }
    }
}

fn scalar<'r>(v: &Value) -> JsonVal<'r> {
    match v {
        Value::Null => JsonVal::Null,
        Value::String(s) => JsonVal::Text(Cow::Owned(s.clone())),
        Value::Number(n) => JsonVal::Text(Cow::Owned(n.to_string())),
        Value::Bool(b) => JsonVal::Text(Cow::Borrowed(if *b { "true" } else { "false" })),
        Value::Array(_) => JsonVal::Wrong("array", usize::MAX),
        Value::Object(_) => JsonVal::Wrong("object", usize::MAX),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_filter_arrays_and_pick_first_last_or_sum() {
        let rec: Value = serde_json::json!({
            "participants": [
                {"purpose": "customer", "sessions": [{"segments": [{"segmentType": "interact", "d": 5}]}]},
                {"purpose": "agent", "sessions": [
                    {"segments": [{"segmentType": "alert", "d": 1}, {"segmentType": "interact", "d": 10, "t": "a"}]},
                    {"segments": [{"segmentType": "interact", "d": 20, "t": "b"}, {"segmentType": "wrapup", "d": 3}]}
                ]}
            ]
        });
        let at = |p: &str, pick| ArrayPath::parse(p, pick).expect("path").eval(&rec);
        let path = "participants[purpose=agent].sessions[].segments[segmentType=interact]";
        assert_eq!(
            at(&format!("{path}.t"), Pick::First),
            JsonVal::Text("a".into())
        );
        assert_eq!(
            at(&format!("{path}.t"), Pick::Last),
            JsonVal::Text("b".into())
        );
        assert_eq!(
            at(&format!("{path}.d"), Pick::Sum),
            JsonVal::Text("30".into())
        );
        assert_eq!(
            at("participants[].sessions[].segments[].d", Pick::Sum),
            JsonVal::Text("39".into())
        );
        assert_eq!(
            at("participants[purpose=ivr].sessions[].x", Pick::First),
            JsonVal::Absent
        );
        assert_eq!(
            at("participants[purpose=agent].sessions", Pick::First),
            JsonVal::Wrong("array", usize::MAX)
        );
        assert_eq!(
            at("participants[].purpose", Pick::Sum),
            JsonVal::Wrong("non-number", usize::MAX)
        );
        let mail: Value =
            serde_json::json!({"to": [{"a": "x@b.com", "n": 1}, {"a": "y@b.com", "n": 2}]});
        let p = ArrayPath::parse("to[a=y@b.com].n", Pick::First).expect("a dot in a filter");
        assert_eq!(p.eval(&mail), JsonVal::Text("2".into()));
        for bad in ["a[", "a[]b", "[x]", "a[k]", "a..b[]", "a.b"] {
            assert!(ArrayPath::parse(bad, Pick::First).is_err(), "{bad}");
        }
    }
}
