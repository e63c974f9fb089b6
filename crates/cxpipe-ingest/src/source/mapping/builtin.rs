//! The built-in mapping files, embedded in the binary.

/// The built-in mapping files: (name, TOML text).
pub const BUILTIN: [(&str, &str); 4] = [
    (
        "amazon-connect",
        include_str!("../../../mappings/amazon-connect.toml"),
    ),
    ("five9", include_str!("../../../mappings/five9.toml")),
    ("talkdesk", include_str!("../../../mappings/talkdesk.toml")),
    ("generic", include_str!("../../../mappings/generic.toml")),
];

/// The built-in text of a mapping (`cxpipe mapping show NAME`).
pub fn builtin_text(name: &str) -> Option<&'static str> {
    BUILTIN.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}
