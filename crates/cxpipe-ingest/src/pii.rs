//! Privacy (SPEC §9): customer pseudonyms and card-number masking.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::error::Error;

/// Name of the key file created in the dataset when no key is configured
/// (the dataset layout's [`cxpipe_model::layout::PII_KEY`]).
pub const KEY_FILE: &str = cxpipe_model::layout::PII_KEY;

/// Where the pseudonymisation key came from, for the run report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// The `CXPIPE_PII_KEY` environment variable.
    Env,
    /// A configured key file.
    File(PathBuf),
    /// The dataset's own key file, created on first use.
    Dataset(PathBuf),
}

/// A keyed hasher that turns raw phone numbers and emails into pseudonyms.
#[derive(Clone)]
pub struct Pseudonymizer {
    key: [u8; 32],
    source: KeySource,
}

impl std::fmt::Debug for Pseudonymizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the key.
        f.debug_struct("Pseudonymizer")
            .field("source", &self.source)
            .finish()
    }
}

const KDF_CONTEXT: &str = "cxpipe 2026 customer_key v1";

impl Pseudonymizer {
    /// A pseudonymizer from key material (any bytes; a 32-byte key is derived).
    pub fn from_material(material: &[u8], source: KeySource) -> Pseudonymizer {
        Pseudonymizer {
            key: blake3::derive_key(KDF_CONTEXT, material),
            source,
        }
    }

    /// Loads the key: `env_key` (the value of `CXPIPE_PII_KEY`) wins, then
    /// `key_file`, then `DATASET/.pii.key`, which is created (mode 0600) when
    /// missing and reused after.
    pub fn load(
        env_key: Option<&str>,
        key_file: Option<&Path>,
        dataset: &Path,
    ) -> Result<Pseudonymizer, Error> {
        if let Some(k) = env_key.filter(|k| !k.trim().is_empty()) {
            // The same bar as a key file: a short secret is guessable, and
            // every pseudonym of the dataset would be reversible by trying
            // phone numbers.
            if k.trim().len() < MIN_KEY_BYTES {
                return Err(Error::Invalid(format!(
                    "CXPIPE_PII_KEY holds fewer than {MIN_KEY_BYTES} bytes; use a longer secret"
                )));
            }
            return Ok(Self::from_material(k.trim().as_bytes(), KeySource::Env));
        }
        if let Some(path) = key_file {
            let material = read_key(path)?;
            return Ok(Self::from_material(
                &material,
                KeySource::File(path.to_path_buf()),
            ));
        }
        let path = dataset.join(KEY_FILE);
        if !path.exists() {
            create_key_file(&path)?;
        }
        let material = read_key(&path)?;
        Ok(Self::from_material(&material, KeySource::Dataset(path)))
    }

    /// Where the key came from.
    pub fn source(&self) -> &KeySource {
        &self.source
    }

    /// A warning about the key, if there is one to give: a key file that
    /// others can read.
    pub fn warning(&self) -> Option<String> {
        match &self.source {
            KeySource::File(p) | KeySource::Dataset(p) => readable_by_others(p),
            KeySource::Env => None,
        }
    }

    /// The pseudonym of a raw customer identifier: 32 lower-case hex chars
    /// of the keyed BLAKE3 hash of its normalised form.
    pub fn customer_key(&self, raw: &str, out: &mut [u8; 32]) {
        let mut norm = [0u8; 128];
        let normalized = normalize(raw, &mut norm);
        let hash = blake3::keyed_hash(&self.key, normalized);
        hex16(&hash.as_bytes()[..16], out);
    }
}

fn hex16(bytes: &[u8], out: &mut [u8; 32]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for (i, b) in bytes.iter().enumerate().take(16) {
        out[2 * i] = HEX[usize::from(b >> 4)];
        out[2 * i + 1] = HEX[usize::from(b & 0xf)];
    }
}

/// Normalises a customer identifier: an email is trimmed and lower-cased; a
/// phone number keeps its digits and a leading `+`; anything else is trimmed.
/// Short values are normalised into `buf`, longer ones fall back to an
/// allocation-free lower-casing of the trimmed text.
fn normalize<'a>(raw: &'a str, buf: &'a mut [u8; 128]) -> &'a [u8] {
    let t = raw.trim();
    if t.contains('@') {
        if t.len() <= buf.len() {
            let n = t.len();
            buf[..n].copy_from_slice(t.as_bytes());
            buf[..n].make_ascii_lowercase();
            return &buf[..n];
        }
        return t.as_bytes();
    }
    let looks_like_phone = !t.is_empty()
        && t.bytes().any(|c| c.is_ascii_digit())
        && t.bytes()
            .all(|c| c.is_ascii_digit() || matches!(c, b'+' | b'-' | b' ' | b'(' | b')' | b'.'));
    if looks_like_phone {
        let mut n = 0;
        if t.starts_with('+') {
            buf[0] = b'+';
            n = 1;
        }
        for c in t.bytes().filter(u8::is_ascii_digit) {
            if n == buf.len() {
                break;
            }
            buf[n] = c;
            n += 1;
        }
        return &buf[..n];
    }
    t.as_bytes()
}

fn read_key(path: &Path) -> Result<Vec<u8>, Error> {
    let mut s = Vec::new();
    fs::File::open(path)
        .and_then(|mut f| f.read_to_end(&mut s))
        .map_err(|source| Error::io(format!("reading PII key file {}", path.display()), source))?;
    let trimmed = s.trim_ascii();
    if trimmed.len() < MIN_KEY_BYTES {
        return Err(Error::Invalid(format!(
            "PII key file {} holds fewer than {MIN_KEY_BYTES} bytes; use a longer secret",
            path.display()
        )));
    }
    Ok(trimmed.to_vec())
}

/// The shortest key accepted, from `CXPIPE_PII_KEY` or a key file.
pub const MIN_KEY_BYTES: usize = 16;

/// A warning when a key file can be read by others: they could compute
/// every pseudonym (the file is the user's; cxpipe does not change its
/// mode).
fn readable_by_others(path: &Path) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = fs::metadata(path).ok()?.permissions().mode() & 0o777;
    (mode & 0o077 != 0).then(|| {
        format!(
            "PII key file {} is readable by others (mode {mode:o}); `chmod 600` it",
            path.display()
        )
    })
}

fn create_key_file(path: &Path) -> Result<(), Error> {
    let ctx = || format!("creating PII key file {}", path.display());
    let mut random = [0u8; 32];
    fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut random))
        .map_err(|e| Error::io(ctx(), e))?;
    let mut hex = [0u8; 64];
    for (i, chunk) in random.chunks(16).enumerate() {
        let mut h = [0u8; 32];
        hex16(chunk, &mut h);
        hex[i * 32..i * 32 + 32].copy_from_slice(&h);
    }
    // Write under a temporary name with mode 0600 from the start, then
    // link it into place: two concurrent first runs cannot both win.
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let mut f = create_private(&tmp).map_err(|e| Error::io(ctx(), e))?;
    f.write_all(&hex)
        .and_then(|()| f.write_all(b"\n"))
        .and_then(|()| f.sync_all())
        .map_err(|e| Error::io(ctx(), e))?;
    let linked = fs::hard_link(&tmp, path);
    let _ = fs::remove_file(&tmp);
    match linked {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(Error::io(ctx(), e)),
    }
}

/// Creates a new file readable and writable by its owner only (mode 0600).
pub fn create_private(path: &Path) -> std::io::Result<fs::File> {
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path)
}

/// Masks card numbers in free text: runs of 13–19 digits (single spaces,
/// dashes or dots allowed between digits) that pass the Luhn check keep their last
/// four digits; the others become `*`. Returns `None` when nothing changed.
pub fn mask_card_numbers(text: &str) -> Option<String> {
    let b = text.as_bytes();
    if b.iter().filter(|c| c.is_ascii_digit()).count() < 13 {
        return None;
    }
    let mut out: Option<Vec<u8>> = None;
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        // Extend a run of digits with single separators between digits. A
        // run longer than 19 digits (an order or tracking number) is left
        // alone: masking a window inside it would corrupt other data.
        let mut positions = Vec::new();
        let mut j = i;
        while j < b.len() {
            if b[j].is_ascii_digit() {
                positions.push(j);
                j += 1;
            } else if matches!(b[j], b' ' | b'-' | b'.')
                && b.get(j + 1).is_some_and(u8::is_ascii_digit)
            {
                j += 1;
            } else {
                break;
            }
        }
        let n = positions.len();
        if (13..=19).contains(&n) && luhn(positions.iter().map(|&p| b[p] - b'0')) {
            let buf = out.get_or_insert_with(|| b.to_vec());
            for &p in &positions[..n - 4] {
                buf[p] = b'*';
            }
        }
        i = j;
    }
    // Only ASCII digits were replaced by '*', so the text stays UTF-8.
    out.map(|v| String::from_utf8_lossy(&v).into_owned())
}

fn luhn(digits: impl DoubleEndedIterator<Item = u8>) -> bool {
    let mut sum = 0u32;
    for (i, d) in digits.rev().enumerate() {
        let mut d = u32::from(d);
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    sum.is_multiple_of(10)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(p: &Pseudonymizer, raw: &str) -> String {
        let mut out = [0u8; 32];
        p.customer_key(raw, &mut out);
        String::from_utf8(out.to_vec()).expect("hex")
    }

    #[test]
    fn pseudonyms_normalise_phones_and_emails() {
        let p = Pseudonymizer::from_material(b"0123456789abcdef", KeySource::Env);
        assert_eq!(key(&p, "+1 (415) 555-0123"), key(&p, "+14155550123"));
        assert_ne!(key(&p, "+14155550123"), key(&p, "14155550123"));
        assert_eq!(key(&p, " Ann@Example.COM "), key(&p, "ann@example.com"));
        let k = key(&p, "+14155550123");
        assert_eq!(k.len(), 32);
        assert!(k.bytes().all(|c| c.is_ascii_hexdigit()));
        let other = Pseudonymizer::from_material(b"another key 123456", KeySource::Env);
        assert_ne!(key(&other, "+14155550123"), k);
    }

    /// One pseudonym pinned, so that a change of the key derivation, the
    /// normalisation or the hash shows. The expected hex was computed
    /// outside cxpipe, with the reference `blake3` Python package (in a
    /// throw-away venv): `key = blake3(material,
    /// derive_key_context="cxpipe 2026 customer_key v1").digest()`, then
    /// `blake3(normalised, key=key).hexdigest()[:32]`, the normalised
    /// values written by hand from SPEC §9 (a phone number's digits with
    /// its leading `+`; an email trimmed and lower-cased).
    #[test]
    fn pseudonyms_are_pinned() {
        let p = Pseudonymizer::from_material(b"0123456789abcdef0123456789abcdef", KeySource::Env);
        // Normalised: "+15550100199".
        assert_eq!(
            key(&p, " +1 (555) 010-0199 "),
            "aab8f697ec5e6a07d0868f6d61a42c85"
        );
        // Normalised: "alice.smith@example.com".
        assert_eq!(
            key(&p, "Alice.Smith@Example.COM "),
            "98584166ebf245039a48d7fc08799acd"
        );
    }

    #[test]
    fn card_numbers_are_masked_to_last_four() {
        assert_eq!(
            mask_card_numbers("refund to card 4111111111111111 ok").as_deref(),
            Some("refund to card ************1111 ok")
        );
        assert_eq!(
            mask_card_numbers("card 4111 1111 1111 1111").as_deref(),
            Some("card **** **** **** 1111")
        );
        // Written with dots, as some agents type them.
        assert_eq!(
            mask_card_numbers("card 4111.1111.1111.1111 exp 12/29").as_deref(),
            Some("card ****.****.****.1111 exp 12/29")
        );
        // Fails Luhn: not a card number.
        assert_eq!(mask_card_numbers("order 4111111111111112"), None);
        // Too short and too long runs stay.
        assert_eq!(mask_card_numbers("call 4155550123"), None);
        assert_eq!(mask_card_numbers("tracking 41111111111111110000000"), None);
    }

    #[test]
    fn key_file_is_created_private_and_reused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = Pseudonymizer::load(None, None, dir.path()).expect("create");
        let b = Pseudonymizer::load(None, None, dir.path()).expect("reuse");
        assert_eq!(key(&a, "x@y.z"), key(&b, "x@y.z"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.path().join(KEY_FILE))
                .expect("meta")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let env = Pseudonymizer::load(Some("a secret from the environment"), None, dir.path())
            .expect("env");
        assert_eq!(env.source(), &KeySource::Env);
        assert_ne!(key(&env, "x@y.z"), key(&a, "x@y.z"));
        assert_eq!(a.warning(), None, "the created key file is private");
    }

    #[test]
    fn short_keys_are_refused_both_ways_and_open_key_files_warned_about() {
        let dir = tempfile::tempdir().expect("tempdir");
        // 15 bytes from the environment: refused like a 15-byte key file.
        let e = Pseudonymizer::load(Some("fifteen bytes!!"), None, dir.path())
            .expect_err("a short env key");
        assert!(
            e.to_string()
                .contains("CXPIPE_PII_KEY holds fewer than 16 bytes"),
            "{e}"
        );
        let short = dir.path().join("short.key");
        fs::write(&short, "fifteen bytes!!").expect("write");
        let e = Pseudonymizer::load(None, Some(&short), dir.path()).expect_err("a short file");
        assert!(e.to_string().contains("fewer than 16 bytes"), "{e}");
        // Exactly 16 bytes is enough.
        assert!(Pseudonymizer::load(Some("sixteen bytes!!!"), None, dir.path()).is_ok());
        // A key file others can read works, with a warning naming it.
        use std::os::unix::fs::PermissionsExt;
        let open = dir.path().join("open.key");
        fs::write(&open, "a long enough shared secret").expect("write");
        fs::set_permissions(&open, fs::Permissions::from_mode(0o644)).expect("chmod");
        let p = Pseudonymizer::load(None, Some(&open), dir.path()).expect("open key");
        let w = p.warning().expect("a warning");
        assert!(w.contains("open.key") && w.contains("644"), "{w}");
    }
}
