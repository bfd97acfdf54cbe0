//! Atomic file writes: a new temporary file next to the target, flushed
//! to disk, renamed over it; and the clean-up of the temporaries that a
//! killed writer left behind.
//!
//! The temporary file of a write to `dir/name` is
//! `dir/.name.<pid>.<n>.tmp`: the writing process's id and a counter of
//! that process. A process killed between creating it and the rename
//! leaves it behind (the target is then as it was: the rename is atomic).
//! The next write to the same target removes such leftovers: files of
//! exactly that pattern for exactly that target (`.name.` + digits + `.` +
//! digits + `.tmp`), which no live writer owns:
//!
//! - another process's file is removed only if no process of that id
//!   runs, as `/proc/<pid>` says; where there is no `/proc` (not Linux),
//!   it is kept;
//! - this process's own file is removed unless this process is writing it
//!   now (a leftover of an earlier process that had the same id, as a
//!   container's first process has after every restart).
//!
//! While another process runs under a dead writer's id, the others keep
//! that leftover (its id looks alive); that process itself removes it at
//! its next write to the same target. A live writer in another pid namespace sharing the directory is
//! not seen: its temporary file may be removed mid-write, and its rename
//! then fails with an error, leaving its target as it was; never is a
//! target corrupted. Clean-up is best effort: a failure to list or remove
//! does not fail the write.
//!
//! ```text
//! weights.safetensors              the target
//! .weights.safetensors.4242.0.tmp  a write in progress, or a leftover of process 4242
//! ```

use std::collections::HashSet;
use std::ffi::{OsStr, OsString};
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use crate::{Error, Result};

/// The temporary files this process is writing now, which clean-up
/// leaves alone.
static WRITING: Mutex<Option<HashSet<PathBuf>>> = Mutex::new(None);

/// Writes `bytes` to `path` atomically: into a new temporary file next to
/// it (same directory, so same file system), flushed to disk, then renamed
/// over `path`. A crash or an error leaves `path` as it was; the temporary
/// file is removed on an error, and one left by a killed writer is removed
/// by the next write to the same `path` (see the [module](self)).
///
/// # Errors
///
/// [`Error::Io`] naming `path` if it names no file, or the temporary file
/// cannot be created, written, flushed or renamed.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let io_error = |source| Error::Io {
        path: path.display().to_string(),
        source,
    };
    let name = path.file_name().ok_or_else(|| {
        io_error(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the path does not name a file",
        ))
    })?;
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    remove_stale_temporaries(dir, name);

    // A name no other writer uses: this process's id and a counter; a file
    // of that name already there is skipped, not overwritten.
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let (temp, mut file) = loop {
        let temp = dir.join(temp_name(
            name,
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
        ));
        // Registered before it exists, so that a clean-up in another
        // thread never sees it unregistered.
        let guard = Writing::register(&temp);
        match OpenOptions::new().write(true).create_new(true).open(&temp) {
            Ok(file) => break (guard, file),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(io_error(e)),
        }
    };

    // The data reaches the disk before the rename makes it visible, so the
    // target is never a renamed but still empty file.
    let written = file.write_all(bytes).and_then(|()| file.sync_all());
    drop(file);
    if let Err(e) = written.and_then(|()| fs::rename(&temp.0, path)) {
        let _ = fs::remove_file(&temp.0);
        return Err(io_error(e));
    }
    drop(temp);
    // Make the rename itself durable; a failure here does not undo it.
    #[cfg(unix)]
    if let Ok(dir) = fs::File::open(dir) {
        let _ = dir.sync_all();
    }
    Ok(())
}

/// `.name.<pid>.<counter>.tmp`.
fn temp_name(name: &OsStr, pid: u32, counter: usize) -> OsString {
    let mut temp = OsString::from(".");
    temp.push(name);
    temp.push(format!(".{pid}.{counter}.tmp"));
    temp
}

/// The writer's process id if `file` is a temporary file of a write to
/// `name` (`.name.<pid>.<counter>.tmp`, both decimal), else `None`.
fn temp_owner(file: &OsStr, name: &OsStr) -> Option<u32> {
    // Names that are not UTF-8 are compared as UTF-8 would fail: such a
    // target's leftovers are not cleaned up.
    let (file, name) = (file.to_str()?, name.to_str()?);
    let rest = file
        .strip_prefix('.')?
        .strip_prefix(name)?
        .strip_prefix('.')?
        .strip_suffix(".tmp")?;
    let (pid, counter) = rest.split_once('.')?;
    let decimal = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !decimal(pid) || !decimal(counter) {
        return None;
    }
    pid.parse().ok()
}

/// Removes the temporary files of writes to `dir/name` that no live
/// writer owns (see the [module](self)); ignores every error.
fn remove_stale_temporaries(dir: &Path, name: &OsStr) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let me = std::process::id();
    for entry in entries.flatten() {
        let file = entry.file_name();
        let Some(pid) = temp_owner(&file, name) else {
            continue;
        };
        let path = entry.path();
        let stale = if pid == me {
            !Writing::contains(&path)
        } else {
            process_alive(pid) == Some(false)
        };
        // A file only: never a directory or a link's target.
        let is_file = entry.file_type().is_ok_and(|t| t.is_file());
        if stale && is_file {
            let _ = fs::remove_file(&path);
        }
    }
}

/// Whether a process of id `pid` runs: `None` where it cannot be told (no
/// `/proc`).
fn process_alive(pid: u32) -> Option<bool> {
    if !Path::new("/proc/self").exists() {
        return None;
    }
    Some(Path::new(&format!("/proc/{pid}")).exists())
}

/// A temporary file registered in [`WRITING`] while it lives.
struct Writing(PathBuf);

impl Writing {
    fn register(path: &Path) -> Writing {
        let mut writing = WRITING.lock().unwrap_or_else(PoisonError::into_inner);
        writing
            .get_or_insert_with(HashSet::new)
            .insert(path.to_path_buf());
        Writing(path.to_path_buf())
    }

    fn contains(path: &Path) -> bool {
        let writing = WRITING.lock().unwrap_or_else(PoisonError::into_inner);
        writing.as_ref().is_some_and(|set| set.contains(path))
    }
}

impl Drop for Writing {
    fn drop(&mut self) {
        let mut writing = WRITING.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(set) = writing.as_mut() {
            set.remove(&self.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_names_parse_back_for_their_target_only() {
        let name = OsStr::new("w.safetensors");
        let temp = temp_name(name, 4242, 7);
        assert_eq!(temp, ".w.safetensors.4242.7.tmp");
        assert_eq!(temp_owner(&temp, name), Some(4242));
        for other in [
            "w.safetensors",
            ".w.safetensors.tmp",
            ".w.safetensors.4242.tmp",
            ".w.safetensors.4242.7.8.tmp",
            ".w.safetensors.x.7.tmp",
            ".w.safetensors.4242..tmp",
            ".w.safetensors.-1.7.tmp",
            ".w.safetensors.4242.7.tmp.bak",
            "..w.safetensors.4242.7.tmp",
            ".w.safetensors.99999999999.7.tmp",
        ] {
            assert_eq!(temp_owner(OsStr::new(other), name), None, "{other}");
        }
        // Another target's temporary file, even one whose name extends
        // this one's.
        let longer = temp_name(OsStr::new("w.safetensors.1"), 5, 6);
        assert_eq!(temp_owner(&longer, name), None);
        assert_eq!(temp_owner(&longer, OsStr::new("w.safetensors.1")), Some(5));
    }

    #[test]
    fn this_process_is_alive() {
        if Path::new("/proc/self").exists() {
            assert_eq!(process_alive(std::process::id()), Some(true));
        }
    }
}
