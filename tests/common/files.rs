//! Files for the interop and checkpoint tests: the committed fixtures,
//! scratch directories, and the numbers of the fixtures' JSON files.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The committed fixture `tests/fixtures/<name>`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// A new, empty directory under Cargo's temporary directory for tests,
/// named `<prefix>-<process>-<count>`.
pub fn temp_dir(prefix: &str) -> PathBuf {
    static COUNT: AtomicUsize = AtomicUsize::new(0);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "{prefix}-{}-{}",
        std::process::id(),
        COUNT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// Every number in a JSON text of numbers and arrays, in order.
pub fn numbers(text: &str) -> Vec<f64> {
    text.split(|c: char| !(c.is_ascii_digit() || "-+.eE".contains(c)))
        .filter(|t| !t.is_empty() && t.chars().any(|c| c.is_ascii_digit()))
        .map(|t| t.parse().unwrap())
        .collect()
}

/// Writes `{"inputs": [[...], ...], "outputs": [[...], ...]}` to `path`:
/// the format of the fixtures' outputs files, every value an exact float.
pub fn write_outputs_json(
    path: &Path,
    inputs: &macrograd::prelude::Array2<f32>,
    outputs: &macrograd::prelude::Array2<f32>,
) {
    let rows = |a: &macrograd::prelude::Array2<f32>| -> String {
        let rows: Vec<String> = a
            .rows()
            .into_iter()
            .map(|r| {
                let values: Vec<String> = r.iter().map(|&v| format!("{:?}", v as f64)).collect();
                format!("[{}]", values.join(", "))
            })
            .collect();
        format!("[{}]", rows.join(", "))
    };
    let json = format!(
        "{{\"inputs\": {}, \"outputs\": {}}}\n",
        rows(inputs),
        rows(outputs)
    );
    fs::write(path, json).unwrap();
}

/// `bytes` (a safetensors file macrograd wrote) without its checksum entry,
/// as a file PyTorch writes has none, the header padded again to a
/// multiple of 8 bytes.
pub fn without_checksum(bytes: &[u8]) -> Vec<u8> {
    with_header(bytes, |header| {
        let at = header.find(r#""macrograd.crc32":""#).unwrap();
        let entry = &header[at..at + 28];
        let header =
            header
                .replacen(&format!("{entry},"), "", 1)
                .replacen(&format!(",{entry}"), "", 1);
        assert!(!header.contains("crc32"), "{header}");
        header
    })
}

/// The safetensors file `bytes` with its header replaced by
/// `edit(header)`, padded to a multiple of 8 bytes.
pub fn with_header(bytes: &[u8], edit: impl FnOnce(&str) -> String) -> Vec<u8> {
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header = std::str::from_utf8(&bytes[8..8 + n]).unwrap().trim_end();
    let mut header = edit(header);
    while !header.len().is_multiple_of(8) {
        header.push(' ');
    }
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend(header.as_bytes());
    out.extend(&bytes[8 + n..]);
    out
}
