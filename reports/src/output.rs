//! Writing files so that readers never see half of one.
//!
//! Everything this crate writes goes through [`write_atomic`]: the bytes go to a
//! temporary file in the destination's own directory (so the final rename stays on one
//! file system) and only a complete file is renamed over the destination. If anything
//! fails, the temporary file is removed and the destination is untouched. A
//! destination that is not a regular file (a terminal, a pipe, a device) is
//! written directly: renaming over it would replace it. Temporary files left by a
//! killed process are removed once they are an hour old.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, SystemTime};

use crate::Error;

/// Name prefix of the temporary files.
const TEMP_PREFIX: &str = ".mcubench-";

/// Age past which a temporary file is taken for one a killed process left.
const STALE_AFTER: Duration = Duration::from_secs(3600);

/// Writes `bytes` to `path` via a temporary sibling file and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let write_error = |source| Error::Write {
        path: path.to_owned(),
        source,
    };
    if std::fs::metadata(path).is_ok_and(|m| !m.is_file()) {
        return std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .and_then(|mut f| f.write_all(bytes))
            .map_err(write_error);
    }
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    remove_stale(dir);
    let mut builder = tempfile::Builder::new();
    builder.prefix(TEMP_PREFIX);
    // Temporary files are private by default; the result should be readable like any
    // file the user writes (the umask still applies).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o644));
    }
    let mut file = builder.tempfile_in(dir).map_err(write_error)?;
    file.write_all(bytes).map_err(write_error)?;
    file.as_file().sync_all().map_err(write_error)?;
    file.persist(path).map_err(|e| write_error(e.error))?;
    Ok(())
}

/// Fails unless a file can be created in `dir`: checked before long work
/// whose results go there, so a read-only directory is reported at once.
pub fn check_writable(dir: &Path) -> Result<(), Error> {
    tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .tempfile_in(dir)
        .map(drop)
        .map_err(|source| Error::Write {
            path: dir.to_owned(),
            source,
        })
}

/// Removes this crate's temporary files in `dir` older than `STALE_AFTER`.
fn remove_stale(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let now = SystemTime::now();
    for entry in entries.flatten() {
        let stale = entry.file_name().to_string_lossy().starts_with(TEMP_PREFIX)
            && entry
                .metadata()
                .ok()
                .filter(std::fs::Metadata::is_file)
                .and_then(|m| m.modified().ok())
                .and_then(|t| now.duration_since(t).ok())
                .is_some_and(|age| age > STALE_AFTER);
        if stale {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}
