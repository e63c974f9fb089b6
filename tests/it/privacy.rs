//! Privacy (SPEC §9): no raw phone number or email anywhere in the dataset
//! outside the quarantine, pseudonyms that are stable per key, card numbers
//! masked, private key and quarantine files.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

use crate::{Case, Expect, Rec, by_id, check, ingested, read_dataset, sample, snapshot};

/// The raw customer identifiers of the generic samples, as written and in
/// their normalised forms (digits only, lower-case).
fn raw_identifiers() -> BTreeSet<String> {
    let mut raw = BTreeSet::new();
    let calls = fs::read_to_string(sample("generic/calls-2026-10-01.csv")).expect("calls");
    for line in calls.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        raw.insert(f[8].to_string());
    }
    raw.extend(
        [
            "dave@example.com",
            "erin@example.com",
            "carol@example.net",
            "+1 415 555 0199",
        ]
        .map(String::from),
    );
    let mut all = BTreeSet::new();
    for r in raw {
        if r.is_empty() {
            continue;
        }
        let digits: String = r.chars().filter(char::is_ascii_digit).collect();
        if digits.len() >= 7 {
            all.insert(digits.clone());
            all.insert(format!("+{digits}"));
        }
        all.insert(r.to_lowercase());
        all.insert(r);
    }
    all
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

fn string_values(r: &Rec) -> Vec<String> {
    [
        Some(&r.interaction_id),
        r.chain_id.as_ref(),
        Some(&r.channel),
        Some(&r.direction),
        r.queue.as_ref(),
        r.agent_id.as_ref(),
        r.team.as_ref(),
        r.site.as_ref(),
        r.customer_key.as_ref(),
        r.disposition.as_ref(),
        Some(&r.source_file),
    ]
    .into_iter()
    .flatten()
    .cloned()
    .collect()
}

fn keys_by_id(rows: &[Rec]) -> BTreeMap<String, Option<String>> {
    rows.iter()
        .map(|r| (r.interaction_id.clone(), r.customer_key.clone()))
        .collect()
}

fn ingest_samples(env: &[(&str, &str)]) -> crate::Checked {
    let mut case = Case::paths(&[
        sample("generic/calls-2026-10-01.csv"),
        sample("generic/chats.ndjson"),
        sample("generic/crlf-bom-reordered.csv"),
    ]);
    for (k, v) in env {
        case = case.env(k, v);
    }
    check(
        &case,
        &Expect::new(
            0,
            vec![
                ingested("calls-2026-10-01.csv", 12, 0, &[]),
                ingested("chats.ndjson", 3, 0, &[]),
                ingested("crlf-bom-reordered.csv", 2, 0, &[]),
            ],
        ),
    )
}

/// No raw identifier in any stored value, nor in any byte of any file of
/// the dataset outside the quarantine (Parquet, ledger, run reports).
#[test]
fn raw_identifiers_are_never_stored() {
    let c = ingest_samples(&[]);
    let raw = raw_identifiers();
    assert!(raw.len() > 20, "{raw:?}");
    for r in &c.rows {
        for v in string_values(r) {
            for id in &raw {
                assert!(
                    !v.contains(id.as_str()),
                    "{} stores {id:?} in {v:?}",
                    r.interaction_id
                );
            }
        }
    }
    for (rel, bytes) in snapshot(&c.ds) {
        if rel.starts_with("quarantine") {
            continue;
        }
        for id in &raw {
            assert!(!contains(&bytes, id.as_bytes()), "{rel} contains {id:?}");
        }
    }
    let keys: Vec<&String> = c
        .rows
        .iter()
        .filter_map(|r| r.customer_key.as_ref())
        .collect();
    assert_eq!(
        keys.len(),
        16,
        "every row with a customer has a key (j-3 has none)"
    );
}

/// The same customer gets the same key however the value is written
/// (phone formatting, email case), in the same run and in later runs;
/// different customers get different keys.
#[test]
fn pseudonyms_are_stable_and_normalised() {
    let c = ingest_samples(&[]);
    let k = keys_by_id(&c.rows);
    assert_eq!(k["c000000000001"], k["c000000000008"], "same phone");
    assert_eq!(
        k["c000000000003"], k["c000000000004"],
        "same phone, two legs"
    );
    assert_ne!(k["c000000000001"], k["c000000000002"]);
    assert_eq!(k["j-3"], None);
    let distinct: BTreeSet<_> = k.values().flatten().collect();
    assert_eq!(distinct.len(), 14, "16 keyed rows, 2 repeated customers");

    let key_file = c.ds.join(".pii.key");
    let key_before = fs::read(&key_file).expect("key file");
    let tmp = tempfile::tempdir().expect("tmp");
    let later = tmp.path().join("later.csv");
    fs::write(
        &later,
        "interaction_id,channel,direction,arrived_at,ended_at,customer_id\n\
         p-2,voice,inbound,2026-10-09T08:00:00Z,2026-10-09T08:01:00Z,+1 (415) 555-0101\n\
         p-3,chat,inbound,2026-10-09T08:00:00Z,2026-10-09T08:01:00Z,  ANN.LEE@example.COM \n\
         p-4,voice,inbound,2026-10-09T08:00:00Z,2026-10-09T08:01:00Z,+48 601-555-011\n\
         p-5,voice,inbound,2026-10-09T08:00:00Z,2026-10-09T08:01:00Z,14155550101\n",
    )
    .expect("write");
    let l = check(
        &Case::paths(&[&later]).into_dataset(&c.ds),
        &Expect::new(0, vec![ingested("later.csv", 4, 0, &[])]),
    );
    assert_eq!(
        fs::read(&key_file).expect("key file"),
        key_before,
        "the key file is reused, not rewritten"
    );
    let k = keys_by_id(&l.rows);
    assert_eq!(
        k["p-2"], k["c000000000001"],
        "phone formatting does not matter"
    );
    assert_eq!(
        k["p-3"], k["c000000000005"],
        "email case and spaces do not matter"
    );
    assert_eq!(k["p-4"], k["c000000000011"]);
    assert_ne!(
        k["p-5"], k["c000000000001"],
        "the leading + is part of the number"
    );
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(p).expect("metadata").permissions().mode() & 0o777
}

/// Without CXPIPE_PII_KEY each dataset creates its own random key (mode
/// 0600): the same customer has different keys in two datasets. With it,
/// no key file is created and keys depend on the variable only.
#[test]
fn key_file_and_environment_key() {
    let a = ingest_samples(&[]);
    let b = ingest_samples(&[]);
    #[cfg(unix)]
    assert_eq!(mode(&a.ds.join(".pii.key")), 0o600);
    let ka = keys_by_id(&a.rows);
    let kb = keys_by_id(&b.rows);
    assert_ne!(
        ka["c000000000001"], kb["c000000000001"],
        "two datasets, two random keys"
    );

    let e1 = ingest_samples(&[("CXPIPE_PII_KEY", "the first secret, long enough")]);
    let e2 = ingest_samples(&[("CXPIPE_PII_KEY", "the first secret, long enough")]);
    let e3 = ingest_samples(&[("CXPIPE_PII_KEY", "another secret, long enough")]);
    assert!(
        !e1.ds.join(".pii.key").exists(),
        "no key file when the key comes from the environment"
    );
    let (k1, k2, k3) = (
        keys_by_id(&e1.rows),
        keys_by_id(&e2.rows),
        keys_by_id(&e3.rows),
    );
    assert_eq!(
        k1, k2,
        "the same key gives the same pseudonyms in any dataset"
    );
    assert_ne!(k1["c000000000001"], k3["c000000000001"]);
    assert_ne!(k1["c000000000001"], ka["c000000000001"]);
}

/// Card numbers in dispositions are masked to their last four digits; other
/// digit runs stay.
#[test]
fn card_numbers_are_masked() {
    let tmp = tempfile::tempdir().expect("tmp");
    let f = tmp.path().join("cards.csv");
    fs::write(
        &f,
        "interaction_id,channel,direction,arrived_at,ended_at,disposition\n\
         k-2,voice,inbound,2026-10-05T08:00:00Z,2026-10-05T08:01:00Z,paid with 4111111111111111 today\n\
         k-3,voice,inbound,2026-10-05T08:00:00Z,2026-10-05T08:01:00Z,\"cards 5500-0000-0000-0004, 378282246310005\"\n\
         k-4,voice,inbound,2026-10-05T08:00:00Z,2026-10-05T08:01:00Z,order 4111111111111112 and phone 4155550123\n",
    )
    .expect("write");
    let c = check(
        &Case::paths(&[&f]),
        &Expect::new(0, vec![ingested("cards.csv", 3, 0, &[])]),
    );
    let r = by_id(&c.rows);
    assert_eq!(
        r["k-2"].disposition.as_deref(),
        Some("paid with ************1111 today")
    );
    assert_eq!(
        r["k-3"].disposition.as_deref(),
        Some("cards ****-****-****-0004, ***********0005")
    );
    assert_eq!(
        r["k-4"].disposition.as_deref(),
        Some("order 4111111111111112 and phone 4155550123"),
        "not Luhn-valid / too short: unchanged"
    );
    for row in read_dataset(&c.ds) {
        for v in string_values(&row) {
            assert!(
                !v.contains("4111111111111111") && !v.contains("378282246310005"),
                "{v}"
            );
        }
    }
}

/// Quarantine files keep the raw row (so it can be fixed) and are private.
#[test]
fn quarantine_keeps_raw_rows_privately() {
    let c = check(
        &Case::paths(&[sample("invalid/bad_enum.csv")]),
        &Expect::new(
            3,
            vec![ingested(
                "bad_enum.csv",
                7,
                0,
                &[
                    (3, "bad_enum"),
                    (4, "bad_enum"),
                    (6, "bad_enum"),
                    (7, "bad_enum"),
                ],
            )],
        ),
    );
    let rel = c.report["files"][0]["quarantine"]
        .as_str()
        .expect("quarantine");
    let q = c.ds.join(rel);
    #[cfg(unix)]
    assert_eq!(mode(&q), 0o600);
    let text = fs::read_to_string(&q).expect("quarantine");
    assert!(
        text.contains("+14155551003"),
        "the raw phone number is kept in quarantine"
    );
}
