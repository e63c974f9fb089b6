//! Random corruption: a valid sample with bytes flipped, inserted or
//! deleted (also inside a gzip stream) never makes the ingest panic or
//! fail as a whole; every row read is written, quarantined or dropped as a
//! duplicate, the quarantine holds exactly the quarantined records, and
//! the dataset holds exactly the written rows.

use std::fs;
use std::path::Path;

use cxpipe_ingest::FileStatus;
use proptest::prelude::*;

use crate::{csv_record_count, gzip, opts, read_rows, run};

fn sample(name: &str) -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../data-samples/generic")
        .join(name);
    fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[derive(Debug, Clone)]
enum Edit {
    Flip { at: usize, mask: u8 },
    Insert { at: usize, byte: u8 },
    Delete { at: usize, len: usize },
}

fn edit() -> impl Strategy<Value = Edit> {
    let byte = prop_oneof![
        prop::sample::select(vec![
            b'"', b',', b'\n', b'\r', b'{', b'}', b'[', b'\\', b':', 0xff, 0xc3, 0
        ]),
        any::<u8>(),
    ];
    prop_oneof![
        (any::<usize>(), 1u8..=255).prop_map(|(at, mask)| Edit::Flip { at, mask }),
        (any::<usize>(), byte).prop_map(|(at, byte)| Edit::Insert { at, byte }),
        (any::<usize>(), 1usize..40).prop_map(|(at, len)| Edit::Delete { at, len }),
    ]
}

fn apply(data: &mut Vec<u8>, edits: &[Edit]) {
    for e in edits {
        if data.is_empty() {
            return;
        }
        match *e {
            Edit::Flip { at, mask } => {
                let i = at % data.len();
                data[i] ^= mask;
            }
            Edit::Insert { at, byte } => {
                let i = at % (data.len() + 1);
                data.insert(i, byte);
            }
            Edit::Delete { at, len } => {
                let i = at % data.len();
                let end = (i + len).min(data.len());
                data.drain(i..end);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 48,
        max_shrink_iters: 100,
        ..ProptestConfig::default()
    })]

    #[test]
    fn corrupted_inputs_are_accounted_for(
        which in 0usize..4,
        edits in prop::collection::vec(edit(), 1..8),
        chunk in prop::sample::select(vec![1024usize, 4096, 1 << 20]),
    ) {
        let (name, mut data) = match which {
            0 => ("calls.csv", sample("calls-2026-10-01.csv")),
            1 => ("chats.ndjson", sample("chats.ndjson")),
            2 => ("crlf.csv", sample("crlf-bom-reordered.csv")),
            // Corrupt the compressed stream itself.
            _ => ("calls.csv.gz", gzip(&sample("calls-2026-10-01.csv"))),
        };
        apply(&mut data, &edits);
        let tmp = tempfile::tempdir().expect("tmp");
        let path = tmp.path().join(name);
        fs::write(&path, &data).expect("write");
        let ds = tmp.path().join("ds");
        let report = run(std::slice::from_ref(&path), &opts(&ds, chunk));
        prop_assert!(report.conservation_ok, "{:#?}", report);
        let f = &report.files[0];
        prop_assert_eq!(f.rows_read, f.rows_written + f.rows_quarantined + f.duplicates_dropped);
        let rows = read_rows(&ds);
        match f.status {
            FileStatus::Ingested => {
                prop_assert_eq!(rows.len() as u64, f.rows_written);
                prop_assert_eq!(f.reasons.values().sum::<u64>(), f.rows_quarantined);
                match &f.quarantine {
                    None => prop_assert_eq!(f.rows_quarantined, 0),
                    Some(rel) => {
                        let q = fs::read(ds.join(rel)).expect("quarantine file");
                        prop_assert_eq!(csv_record_count(&q) as u64, f.rows_quarantined + 1, "header + one record per reject");
                    }
                }
                for r in &rows {
                    // SPEC §3: a null end only on an unanswered row, and
                    // then a null wait.
                    match (r.answered_at, r.ended_at) {
                        (Some(a), Some(e)) => prop_assert!(r.arrived_at <= a && a <= e),
                        (None, Some(e)) => prop_assert!(r.arrived_at <= e),
                        (Some(_), None) => prop_assert!(false, "answered without an end"),
                        (None, None) => prop_assert!(r.wait_ms.is_none()),
                    }
                    prop_assert!(!r.abandoned || (r.answered_at.is_none() && r.agent_id.is_none()));
                    prop_assert!(r.wait_ms.is_none_or(|w| w >= 0) && r.talk_ms >= 0 && r.hold_ms >= 0 && r.acw_ms >= 0);
                    prop_assert_eq!(r.handle_ms, r.talk_ms + r.hold_ms + r.acw_ms);
                    prop_assert!(r.csat.is_none_or(|c| (1..=5).contains(&c)));
                    prop_assert_eq!(&r.source_file, name);
                }
            }
            FileStatus::Failed => {
                prop_assert!(rows.is_empty(), "nothing of a failed file is kept");
                prop_assert_eq!(f.rows_read, 0);
                prop_assert!(f.message.as_deref().is_some_and(|m| !m.is_empty()));
            }
            FileStatus::Skipped => prop_assert!(false, "a fresh dataset skips nothing"),
        }
    }
}
