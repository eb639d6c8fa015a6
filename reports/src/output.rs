//! Writing files so that readers never see half of one.
//!
//! Everything this crate writes goes through [`write_atomic`]: the bytes go to a
//! temporary file in the destination's own directory (so the final rename stays on one
//! file system) and only a complete file is renamed over the destination. If anything
//! fails, the temporary file is removed and the destination is untouched.

use std::io::Write;
use std::path::Path;

use crate::Error;

/// Writes `bytes` to `path` via a temporary sibling file and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let write_error = |source| Error::Write {
        path: path.to_owned(),
        source,
    };
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".mcubench-");
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
