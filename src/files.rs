//! Atomic file writes: a save either fully replaces the old file or leaves it untouched.

use std::io::Write;
use std::path::Path;

use anyhow::Context;

/// Writes `bytes` to a temporary file beside `path`, flushes it to disk, then renames it over
/// `path`, so a crash or a full disk mid-save never leaves a half-written file (or a lost model).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        anyhow::bail!(
            "{}: the folder {} does not exist",
            path.display(),
            dir.display()
        );
    }
    let mut tmp = tempfile::NamedTempFile::new_in(dir).with_context(|| {
        format!(
            "{}: cannot create a file in {}",
            path.display(),
            dir.display()
        )
    })?;
    // A temporary file is private (0600); the saved file gets the old file's permissions, or
    // the usual ones for a new file.
    let permissions = match std::fs::metadata(path) {
        Ok(meta) => Some(meta.permissions()),
        Err(_) => default_permissions(),
    };
    if let Some(permissions) = permissions {
        tmp.as_file()
            .set_permissions(permissions)
            .with_context(|| format!("{}: cannot set permissions", path.display()))?;
    }
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(|| format!("{}: writing failed", path.display()))?;
    tmp.persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("{}: cannot replace the file", path.display()))?;
    Ok(())
}

#[cfg(unix)]
fn default_permissions() -> Option<std::fs::Permissions> {
    use std::os::unix::fs::PermissionsExt;
    Some(std::fs::Permissions::from_mode(0o644))
}

#[cfg(not(unix))]
fn default_permissions() -> Option<std::fs::Permissions> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_and_replaces() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("a.txt");
        write_atomic(&path, b"one").expect("first write");
        write_atomic(&path, b"two").expect("second write");
        assert_eq!(std::fs::read(&path).expect("read"), b"two");
        let leftovers = std::fs::read_dir(dir.path()).expect("list").count();
        assert_eq!(leftovers, 1, "no temporary file is left behind");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(
                mode & 0o777,
                0o644,
                "a saved file is readable like any other"
            );
        }
    }

    #[test]
    fn missing_folder_is_an_error_naming_it() {
        let err = write_atomic(Path::new("/no/such/folder/x.bin"), b"x").expect_err("must fail");
        assert!(err.to_string().contains("/no/such/folder"));
    }
}
