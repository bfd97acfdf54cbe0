//! The CSV loader never panics: seeded random inputs (random bytes, random
//! CSV-like text, truncated and bit-flipped copies of a valid file, and
//! fields replaced by hostile values) are read with every option; each read
//! must return `Ok` or an `Err` whose message names the file. A panic is
//! caught and reported with the input that caused it.

use std::panic::{catch_unwind, AssertUnwindSafe};

use macrograd::data::Csv;
use macrograd::datasets::IRIS_CSV;
use macrograd::Rng;

const CASES: usize = 2000;

/// Values that have broken number and label parsers elsewhere.
const HOSTILE: &[&str] = &[
    "",
    "-",
    ".",
    "e",
    "1e",
    "NaN",
    "-inf",
    "infinity",
    "1e400",
    "-1e-400",
    "18446744073709551616",
    "9007199254740993",
    "9007199254740991.5",
    "9007199254740992.0",
    "1e99999999999999999999999",
    "-1e-99999999999999999999999",
    "1e+",
    "+.e1",
    ".5e-3",
    "nan",
    "Infinity",
    "1e300",
    "-0",
    "0x10",
    "1_000",
    "\u{0}",
    "\u{feff}1",
    "\"",
    "\"\"",
    "\"1,2\"",
    "\r",
    "\u{1F600}",
    "\u{fffd}",
    "  ",
];

/// Reads `bytes` in every configuration; `Err(description)` if one panics.
fn read_all_ways(bytes: &[u8]) -> Result<(), String> {
    type Read = fn(&[u8]) -> Result<(), macrograd::Error>;
    let ways: [(&str, Read); 6] = [
        ("classification", |b| {
            Csv::from_reader("fuzz.csv", b)
                .classification::<f32>()
                .map(drop)
        }),
        ("regression f64", |b| {
            Csv::from_reader("fuzz.csv", b)
                .regression::<f64>()
                .map(drop)
        }),
        ("no header, target 0", |b| {
            Csv::from_reader("fuzz.csv", b)
                .header(false)
                .target_index(0)
                .classification::<f64>()
                .map(drop)
        }),
        ("target by name", |b| {
            Csv::from_reader("fuzz.csv", b)
                .target("species")
                .classification::<f32>()
                .map(drop)
        }),
        ("two targets", |b| {
            Csv::from_reader("fuzz.csv", b)
                .target_indices([1, 3])
                .regression::<f32>()
                .map(drop)
        }),
        ("semicolons", |b| {
            Csv::from_reader("fuzz.csv", b)
                .delimiter(b';')
                .regression::<f32>()
                .map(drop)
        }),
    ];
    for (name, read) in ways {
        match catch_unwind(AssertUnwindSafe(|| read(bytes))) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                let message = e.to_string();
                if !message.starts_with("fuzz.csv: ") {
                    return Err(format!(
                        "{name}: an error that does not name the file: {message}"
                    ));
                }
            }
            Err(_) => return Err(format!("{name} panicked")),
        }
    }
    Ok(())
}

/// One seeded input.
fn input(rng: &mut Rng, valid: &[u8]) -> Vec<u8> {
    match rng.below(6) {
        // Random bytes.
        0 => (0..rng.below(200)).map(|_| rng.below(256) as u8).collect(),
        // Random text over the bytes that matter to a CSV reader.
        1 => {
            let alphabet = b"0123456789.,;-+eE\n\r\" \tnaNIfx";
            (0..rng.below(300))
                .map(|_| alphabet[rng.below(alphabet.len())])
                .collect()
        }
        // A valid file cut anywhere.
        2 => valid[..rng.below(valid.len() + 1)].to_vec(),
        // A valid file with a few bits flipped.
        3 => {
            let mut bytes = valid.to_vec();
            for _ in 0..1 + rng.below(8) {
                let i = rng.below(bytes.len());
                bytes[i] ^= 1 << rng.below(8);
            }
            bytes
        }
        // A valid file with a field replaced by a hostile value.
        4 => {
            let text = String::from_utf8_lossy(valid);
            let mut lines: Vec<String> = text.lines().map(String::from).collect();
            let i = rng.below(lines.len());
            let mut fields: Vec<&str> = lines[i].split(',').collect();
            let j = rng.below(fields.len());
            fields[j] = HOSTILE[rng.below(HOSTILE.len())];
            lines[i] = fields.join(",");
            (lines.join("\n") + "\n").into_bytes()
        }
        // A valid file with a line duplicated, dropped, or given an extra field.
        _ => {
            let text = String::from_utf8_lossy(valid);
            let mut lines: Vec<String> = text.lines().map(String::from).collect();
            let i = rng.below(lines.len());
            match rng.below(3) {
                0 => {
                    let line = lines[i].clone();
                    lines.insert(i, line);
                }
                1 => {
                    lines.remove(i);
                }
                _ => lines[i].push_str(",1"),
            }
            (lines.join("\n") + "\n").into_bytes()
        }
    }
}

#[test]
fn the_loader_never_panics() {
    // The first 12 rows of iris: small enough to read 6 ways 2000 times in
    // well under a second, large enough for every kind of row.
    let valid: String = IRIS_CSV
        .lines()
        .take(13)
        .map(|l| format!("{l}\n"))
        .collect();
    let valid = valid.into_bytes();
    assert!(read_all_ways(&valid).is_ok());
    Csv::from_reader("valid.csv", &valid[..])
        .classification::<f32>()
        .expect("the seed file is valid");

    let mut rng = Rng::new(2024);
    let mut failures = Vec::new();
    let mut errors = 0;
    // Silence the default hook while panics are being caught; restore after.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    for case in 0..CASES {
        let bytes = input(&mut rng, &valid);
        if let Err(what) = read_all_ways(&bytes) {
            failures.push(format!(
                "case {case}: {what} on {:?}",
                String::from_utf8_lossy(&bytes)
            ));
        }
        if Csv::from_reader("fuzz.csv", &bytes[..])
            .regression::<f32>()
            .is_err()
        {
            errors += 1;
        }
    }
    std::panic::set_hook(hook);
    assert!(
        failures.is_empty(),
        "{} panics:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // The inputs did exercise the error paths, and not only them.
    assert!(
        errors > CASES / 4 && errors < CASES,
        "{errors} of {CASES} were errors"
    );
}
