//! SLA policies (SPEC §10): `[[sla]]` tables in a policy file (`--policy`)
//! or in `cxpipe.toml`, each checked into an analytics `Rule`; a mistake
//! names the file, the rule's line and what is wrong.

use std::path::Path;

use cxpipe_analytics::sla::{Rule, Scope};
use serde::Deserialize;

use crate::exit::UsageError;

/// One `[[sla]]` table as written (SPEC §10).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRule {
    name: String,
    kind: String,
    #[serde(default)]
    scope: RawScope,
    threshold_s: Option<f64>,
    target: Option<f64>,
    interval: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScope {
    channel: Option<String>,
    queue: Option<String>,
    team: Option<String>,
    site: Option<String>,
}

/// A policy file: `[[sla]]` tables and nothing else.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    #[serde(default)]
    sla: Vec<toml::Spanned<RawRule>>,
}

/// Reads the SLA rules of a policy file (`--policy`).
pub fn load_policy(path: &Path) -> anyhow::Result<Vec<Rule>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| UsageError(format!("reading policy {}: {e}", path.display())))?;
    let policy: PolicyFile = toml::from_str(&text)
        .map_err(|e| UsageError(format!("{}: {}", path.display(), e.to_string().trim_end())))?;
    let rules = rules(policy.sla, &text, path)?;
    if rules.is_empty() {
        return Err(UsageError(format!(
            "{}: no [[sla]] rules in the policy file",
            path.display()
        ))
        .into());
    }
    Ok(rules)
}

/// Checks each rule; an error names the file, the rule's line and what is
/// wrong.
pub(super) fn rules(
    raw: Vec<toml::Spanned<RawRule>>,
    text: &str,
    path: &Path,
) -> anyhow::Result<Vec<Rule>> {
    let mut out: Vec<Rule> = Vec::with_capacity(raw.len());
    for spanned in raw {
        let line = text[..spanned.span().start.min(text.len())]
            .matches('\n')
            .count()
            + 1;
        let r = spanned.into_inner();
        let at = |what: String| {
            UsageError(format!(
                "{}:{line}: [[sla]] {:?}: {what}",
                path.display(),
                r.name
            ))
        };
        let scope = Scope {
            channel: r.scope.channel.clone(),
            queue: r.scope.queue.clone(),
            team: r.scope.team.clone(),
            site: r.scope.site.clone(),
        };
        let rule = Rule::new(
            &r.name,
            &r.kind,
            scope,
            r.threshold_s,
            r.target,
            r.interval.as_deref(),
        )
        .map_err(at)?;
        if out.iter().any(|o| o.name == rule.name) {
            return Err(at("another rule has this name".to_string()).into());
        }
        out.push(rule);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy_error(text: &str) -> String {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sla.toml");
        std::fs::write(&path, text).expect("write");
        let e = load_policy(&path).expect_err("should be refused");
        format!("{e:#}")
    }

    #[test]
    fn bad_policies_name_the_file_line_and_problem() {
        let ok = "[[sla]]\nname = \"a\"\nkind = \"acw\"\nthreshold_s = 120\n\n";
        let e = policy_error(&format!("{ok}[[sla]]\nname = \"b\"\nkind = \"speed\"\n"));
        assert!(
            e.contains("sla.toml:6: [[sla]] \"b\": unknown kind \"speed\""),
            "{e}"
        );
        let e = policy_error(&format!(
            "{ok}[[sla]]\nname = \"b\"\nkind = \"service_level\"\n"
        ));
        assert!(
            e.contains("sla.toml:6:") && e.contains("needs `target`"),
            "{e}"
        );
        let e = policy_error(&format!(
            "{ok}[[sla]]\nname = \"b\"\nkind = \"abandon_rate\"\ntarget = 5\n"
        ));
        assert!(e.contains("out of range"), "{e}");
        let e = policy_error(&format!(
            "{ok}[[sla]]\nname = \"b\"\nkind = \"acw\"\nthreshhold_s = 1\n"
        ));
        assert!(
            e.contains("sla.toml") && e.contains("line 9") && e.contains("threshhold_s"),
            "{e}"
        );
        let e = policy_error(&format!(
            "{ok}[[sla]]\nname = \"a\"\nkind = \"hold\"\nthreshold_s = 60\n"
        ));
        assert!(e.contains("another rule has this name"), "{e}");
        let e = policy_error(&format!(
            "{ok}[[sla]]\nname = \"c\"\nkind = \"wait\"\nthreshold_s = 1\nscope = {{ lane = \"x\" }}\n"
        ));
        assert!(e.contains("lane"), "{e}");
        assert!(policy_error("").contains("no [[sla]] rules"));
    }
}
