//! Readers outside cxpipe during commits (SPEC §6): one that names the
//! current snapshot (`current_snapshot`, what `cxpipe info --snapshot`
//! prints) and reads its folder only ever sees a whole committed state,
//! however the commits add and delete files; and the folder matches the
//! snapshot's manifest.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use cxpipe_dataset::{Commit, Dataset, INTERACTIONS, current_snapshot};
use proptest::prelude::*;

type State = BTreeMap<String, Vec<u8>>;

/// Every file under a table folder (`interactions/…` → bytes).
fn read_table(dir: &Path) -> Option<State> {
    let mut out = State::new();
    for part in fs::read_dir(dir).ok()?.flatten() {
        let name = part.file_name().to_string_lossy().into_owned();
        for f in fs::read_dir(part.path()).ok()?.flatten() {
            let fname = f.file_name().to_string_lossy().into_owned();
            let bytes = fs::read(f.path()).ok()?;
            out.insert(format!("{INTERACTIONS}/{name}/{fname}"), bytes);
        }
    }
    Some(out)
}

/// One commit: files to add (day, size) and indexes of current files to
/// delete.
#[derive(Debug, Clone)]
struct Step {
    add: Vec<(u8, u16)>,
    delete: Vec<usize>,
}

fn step() -> impl Strategy<Value = Step> {
    (
        prop::collection::vec((1u8..=5, 1u16..2000), 0..4),
        prop::collection::vec(any::<usize>(), 0..3),
    )
        .prop_map(|(add, delete)| Step { add, delete })
}

/// Applies `steps` as commits while a reader thread names and reads the
/// current snapshot in a loop. Returns (reads, mixed glob listings).
fn run(steps: &[Step]) -> (usize, usize) {
    let tmp = tempfile::tempdir().expect("tmp");
    let root = tmp.path().join("ds");
    let ds = Dataset::open(&root).expect("open");
    let states: Arc<Mutex<Vec<State>>> = Arc::new(Mutex::new(vec![State::new()]));
    let done = Arc::new(AtomicBool::new(false));
    let reader = {
        let (root, states, done) = (root.clone(), states.clone(), done.clone());
        std::thread::spawn(move || {
            let (mut reads, mut mixed) = (0, 0);
            loop {
                // One more round after the last commit: it sees the end state.
                let stop = done.load(Ordering::SeqCst);
                if let Some(snap) = current_snapshot(&root).expect("current snapshot") {
                    let folder = root.join("snapshots").join(&snap.id);
                    let seen = read_table(&folder.join(INTERACTIONS))
                        .expect("a named snapshot stays readable");
                    let listed: Vec<&str> = snap.files.iter().map(|f| f.path.as_str()).collect();
                    let on_disk: Vec<&str> = seen.keys().map(String::as_str).collect();
                    assert_eq!(listed, on_disk, "the manifest lists the folder");
                    let known = states.lock().expect("states").contains(&seen);
                    assert!(
                        known,
                        "snapshot {} is not a committed state: {:?}",
                        snap.id,
                        seen.keys()
                    );
                    reads += 1;
                }
                // The glob path: a mix is possible only across a switch.
                if let Some(seen) = read_table(&root.join(INTERACTIONS))
                    && !states.lock().expect("states").contains(&seen)
                {
                    mixed += 1;
                }
                if stop {
                    break;
                }
            }
            (reads, mixed)
        })
    };
    let mut current = State::new();
    for (n, s) in steps.iter().enumerate() {
        let id = format!("20261201T000000Z-{n:06}");
        let staging = ds.staging_dir(&id);
        fs::create_dir_all(&staging).expect("staging");
        let mut commit = Commit::default();
        let mut next = current.clone();
        for (k, (day, size)) in s.add.iter().enumerate() {
            let rel = format!("{INTERACTIONS}/date=2026-10-0{day}/part-{id}-{k}.parquet");
            let path = staging.join(&rel);
            fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            let bytes: Vec<u8> = format!("{id}/{k}/")
                .bytes()
                .cycle()
                .take(usize::from(*size))
                .collect();
            fs::write(&path, &bytes).expect("stage");
            commit.add_move(format!(".staging/{id}/{rel}"), rel.clone());
            next.insert(rel, bytes);
        }
        let names: Vec<String> = current.keys().cloned().collect();
        for d in &s.delete {
            if names.is_empty() {
                break;
            }
            let rel = &names[d % names.len()];
            commit.add_delete(rel.clone());
            next.remove(rel);
        }
        if commit.is_empty() {
            continue;
        }
        // The state is known before the commit can show it.
        states.lock().expect("states").push(next.clone());
        ds.commit(&id, commit).expect("commit");
        current = next;
        assert_eq!(
            read_table(&root.join(INTERACTIONS)).expect("table"),
            current
        );
    }
    done.store(true, Ordering::SeqCst);
    reader.join().expect("the reader saw only whole states")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn a_snapshot_reader_sees_only_whole_states(steps in prop::collection::vec(step(), 1..12)) {
        let (reads, _mixed) = run(&steps);
        // The reader read (a test that never read would prove nothing).
        prop_assert!(reads > 0 || steps.iter().all(|s| s.add.is_empty()));
    }
}
