//! The architecture, kept by tests that read the source (ARCHITECTURE.md,
//! "Invariants"): which crate may depend on which, which module of the
//! binary may use which, no module cycle inside a library, and no test
//! file the harness forgets.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `.rs` file under `dir`, recursively, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(rust_files(&p));
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// The text of a file without `//` comments (doc comments name modules in
/// prose; only code counts).
fn code(path: &Path) -> String {
    fs::read_to_string(path)
        .expect("source file")
        .lines()
        .map(|l| match l.find("//") {
            Some(i) if !l[..i].contains('"') => &l[..i],
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The names that follow `prefix` (`crate::` → `settings`, `output`, …)
/// anywhere in the code, including inside `use crate::{a, b::c}` groups.
fn referenced(text: &str, prefix: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (i, _) in text.match_indices(prefix) {
        let rest = &text[i + prefix.len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let inner = &group[..group.find('}').unwrap_or(group.len())];
            for part in inner.split(',') {
                let name: String = part
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    out.insert(name);
                }
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.insert(name);
            }
        }
    }
    out
}

/// The crate's top-level module a source file belongs to (`src/kpi/mod.rs`
/// and `src/kpi/rows.rs` → `kpi`; `src/lib.rs` and `src/main.rs` → the
/// crate root, `""`).
fn top_module(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).expect("under src");
    let first = rel
        .components()
        .next()
        .and_then(|c| c.as_os_str().to_str())
        .unwrap_or_default();
    match first.strip_suffix(".rs") {
        Some("lib" | "main") => String::new(),
        Some(m) => m.to_string(),
        None => first.to_string(),
    }
}

/// A cycle in `graph`, if there is one: the modules on it, in order.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = stack.iter().position(|n| n == node) {
            let mut cycle = stack[i..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        stack.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, graph, stack, done) {
                return Some(c);
            }
        }
        stack.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        if let Some(c) = visit(node, graph, &mut Vec::new(), &mut done) {
            return Some(c);
        }
    }
    None
}

#[test]
fn the_cycle_finder_finds_cycles() {
    let g = |edges: &[(&str, &str)]| {
        let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (a, b) in edges {
            g.entry(a.to_string()).or_default().insert(b.to_string());
        }
        g
    };
    assert_eq!(find_cycle(&g(&[("a", "b"), ("b", "c")])), None);
    assert_eq!(
        find_cycle(&g(&[("a", "b"), ("b", "c"), ("c", "a")])),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
    assert_eq!(
        referenced("use crate::{a::x, b};\nlet v = crate::c::f();", "crate::"),
        ["a", "b", "c"].iter().map(|s| s.to_string()).collect()
    );
}

/// The `cxpipe-*` crates a crate's Cargo.toml depends on (not dev-deps).
fn our_dependencies(manifest: &Path) -> BTreeSet<String> {
    let text = fs::read_to_string(manifest).expect("Cargo.toml");
    let mut out = BTreeSet::new();
    let mut in_deps = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_deps = line == "[dependencies]";
            continue;
        }
        if in_deps && line.starts_with("cxpipe-") {
            let name: String = line
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '-')
                .collect();
            out.insert(name);
        }
    }
    out
}

/// Which of our crates each library may depend on: the vocabulary on
/// nothing of ours, the dataset on the vocabulary, analytics never on
/// ingest (it reads the dataset only), and only the binary on polars'
/// crate (analytics) and ingest together.
#[test]
fn library_crates_depend_only_on_what_they_may() {
    let allowed: BTreeMap<&str, &[&str]> = BTreeMap::from([
        ("cxpipe-model", &[][..]),
        ("cxpipe-dataset", &["cxpipe-model"][..]),
        ("cxpipe-ingest", &["cxpipe-model", "cxpipe-dataset"][..]),
        ("cxpipe-analytics", &["cxpipe-model", "cxpipe-dataset"][..]),
        ("cxpipe-generate", &["cxpipe-model"][..]),
    ]);
    let crates = root().join("crates");
    let mut seen = BTreeSet::new();
    for entry in fs::read_dir(&crates).expect("crates/").flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(ok) = allowed.get(name.as_str()) else {
            panic!("crates/{name}: a new crate; say in this test what it may depend on");
        };
        seen.insert(name.clone());
        let deps = our_dependencies(&entry.path().join("Cargo.toml"));
        for dep in &deps {
            assert!(
                ok.contains(&dep.as_str()),
                "{name} must not depend on {dep}"
            );
        }
        // The source agrees with the manifest: no path to a crate it may
        // not use (through a re-export, say).
        for file in rust_files(&entry.path().join("src")) {
            for used in referenced(&code(&file), "cxpipe_") {
                let dep = format!("cxpipe-{}", used.replace('_', "-"));
                assert!(
                    dep == name || ok.contains(&dep.as_str()),
                    "{} uses {dep}",
                    file.display()
                );
            }
        }
        let polars = fs::read_to_string(entry.path().join("Cargo.toml"))
            .expect("Cargo.toml")
            .lines()
            .any(|l| l.trim_start().starts_with("polars"));
        assert!(
            !polars || name == "cxpipe-analytics",
            "{name} depends on polars; only cxpipe-analytics may"
        );
    }
    assert_eq!(seen.len(), allowed.len(), "a crate of this test is gone");
}

/// The binary's modules, each with the modules of the binary it may use.
/// Nothing points back up: a command never uses another command, the
/// shared modules never use a command, settings never use output or html.
const BINARY_LAYERS: &[(&str, &[&str])] = &[
    ("exit", &[]),
    ("interrupt", &[]),
    ("open", &["progress"]),
    ("progress", &[]),
    ("output", &["exit", "progress"]),
    ("settings", &["exit", "settings"]),
    ("html", &["settings", "output"]),
    ("global", &[]),
    ("cli", &["cmd", "global"]),
    ("logging", &["global"]),
];

#[test]
fn binary_modules_use_only_the_layers_below_them() {
    let src = root().join("src");
    let allowed: BTreeMap<&str, &[&str]> = BINARY_LAYERS.iter().copied().collect();
    for file in rust_files(&src) {
        let module = top_module(&src, &file);
        let used = referenced(&code(&file), "crate::");
        if module == "cmd" {
            let name = file
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default();
            // A command module is its command's alone: it never uses
            // another command's module.
            for other in referenced(&code(&file), "cmd::") {
                assert_eq!(other, name, "src/cmd/{name}.rs uses cmd::{other}");
            }
            for u in &used {
                assert!(
                    !matches!(u.as_str(), "cli" | "logging" | "cmd"),
                    "src/cmd/{name}.rs uses crate::{u}"
                );
            }
            continue;
        }
        if module.is_empty() {
            continue; // main.rs wires everything together
        }
        let Some(ok) = allowed.get(module.as_str()) else {
            panic!("src/{module}: a new module; add it to BINARY_LAYERS");
        };
        for u in &used {
            assert!(
                ok.contains(&u.as_str()),
                "{} (module {module}) uses crate::{u}",
                file.display()
            );
        }
    }
}

/// Every test file is compiled: each `.rs` file under a `tests/it/` folder
/// is a `mod` of that folder's `main.rs` (or of its own folder's
/// `mod.rs`), so none is forgotten silently.
#[test]
fn no_test_file_is_forgotten_by_the_harness() {
    let mut dirs = vec![root().join("tests/it")];
    for entry in fs::read_dir(root().join("crates"))
        .expect("crates/")
        .flatten()
    {
        dirs.push(entry.path().join("tests/it"));
    }
    let mut checked = 0;
    for dir in dirs.iter().filter(|d| d.is_dir()) {
        for file in rust_files(dir) {
            let name = file
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default();
            if name == "main" || name == "mod" {
                continue;
            }
            let parent = file.parent().expect("parent");
            let owner = if parent == dir.as_path() {
                dir.join("main.rs")
            } else {
                parent.join("mod.rs")
            };
            let text = code(&owner);
            let declared = text.lines().any(|l| {
                let l = l.trim();
                l == format!("mod {name};") || l == format!("pub mod {name};")
            });
            assert!(
                declared,
                "{} is not a mod of {}",
                file.display(),
                owner.display()
            );
            checked += 1;
        }
    }
    assert!(checked > 10, "only {checked} test files found");
}
/// Edges `module → module it names with crate::` of one crate.
fn module_graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in rust_files(src) {
        let from = top_module(src, &file);
        if from.is_empty() {
            continue;
        }
        let entry = graph.entry(from.clone()).or_default();
        for to in referenced(&code(&file), "crate::") {
            if to != from {
                entry.insert(to);
            }
        }
    }
    graph
}

/// No module cycle inside a library crate (a module never uses one that
/// uses it back).
#[test]
fn library_modules_have_no_cycles() {
    for entry in fs::read_dir(root().join("crates"))
        .expect("crates/")
        .flatten()
    {
        let graph = module_graph(&entry.path().join("src"));
        if let Some(cycle) = find_cycle(&graph) {
            panic!(
                "crates/{}: module cycle {}",
                entry.file_name().to_string_lossy(),
                cycle.join(" -> ")
            );
        }
    }
}
