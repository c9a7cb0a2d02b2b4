//! The one way this binary writes a file the user asked for (`--output`, `--html`, `--sarif`,
//! `report render --html`, the JSON-lines file): the last step of the flow, after the report
//! is rendered.
//!
//! rpcaudit often runs as root in directories other users can write to. So a report is never
//! written through a name someone else could have prepared:
//! - the bytes go to a new file created exclusively (`O_CREAT|O_EXCL`, which never follows a
//!   symlink) under an unpredictable name in the destination's own directory
//!   ([`tempfile::Builder::tempfile_in`]), with the mode a plain create would give (0666 less
//!   the umask);
//! - when everything is written and synced, that file is renamed over the destination, which
//!   replaces a name, never writes through it, so a reader sees the old file or the whole new
//!   one;
//! - a destination that exists but is not a regular file (a symlink, a device such as
//!   `/dev/stdout` or `/dev/full`, a FIFO, a directory) is refused before anything is created:
//!   renaming over it would replace that entry (as root, a device node) instead of writing
//!   where the name points;
//! - on any failure the temporary file is removed (dropping a [`tempfile::NamedTempFile`]
//!   unlinks it), and the destination is left as it was.

use std::io::Write;
use std::path::{Path, PathBuf};

/// A report file being written: a hidden temporary file beside the destination until
/// [`AtomicFile::commit`] renames it over the destination.
#[derive(Debug)]
pub struct AtomicFile {
    path: PathBuf,
    out: std::io::BufWriter<tempfile::NamedTempFile>,
}

impl AtomicFile {
    /// Start writing `path`: refuse a destination that is not a regular file, then create the
    /// temporary file beside it.
    pub fn create(path: &Path) -> std::io::Result<Self> {
        refuse_special(path)?;
        let file = tempfile::Builder::new()
            .prefix(&temp_prefix(path))
            .suffix(".tmp")
            .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666))
            .tempfile_in(directory_of(path))?;
        Ok(AtomicFile {
            path: path.to_path_buf(),
            out: std::io::BufWriter::new(file),
        })
    }

    /// Flush, sync and rename the file over the destination. On failure the temporary file is
    /// removed and the destination is unchanged.
    pub fn commit(self) -> std::io::Result<()> {
        let file = self.out.into_inner().map_err(|e| e.into_error())?;
        file.as_file().sync_all()?;
        // The destination may have become something else while we wrote; check again.
        refuse_special(&self.path)?;
        file.persist(&self.path).map_err(|e| e.error)?;
        Ok(())
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.out.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// Write `bytes` to `path` as one [`AtomicFile`].
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut f = AtomicFile::create(path)?;
    f.write_all(bytes)?;
    f.commit()
}

/// The directory the destination's name lives in (`.` for a bare file name).
fn directory_of(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// `.NAME.` : the temporary file's name starts with the destination's (the random part and
/// `.tmp` follow), so a stray one left by a crash says what it was.
fn temp_prefix(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "report".into());
    format!(".{name}.")
}

/// An error when `path` exists and is not a regular file (checked without following a
/// symlink).
fn refuse_special(path: &Path) -> std::io::Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_file() => Ok(()),
        Ok(meta) => {
            let kind = if meta.file_type().is_symlink() {
                "a symbolic link"
            } else if meta.is_dir() {
                "a directory"
            } else {
                "not a regular file (a device, FIFO or socket)"
            };
            Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!(
                    "is {kind}; rpcaudit replaces a report file by renaming a new file over it, so it writes only to a new name or an existing regular file (use stdout for a pipe or a device)"
                ),
            ))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn entries(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn writes_a_new_file_and_replaces_an_old_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.json");
        write_atomically(&path, b"one").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"one");
        write_atomically(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert_eq!(entries(dir.path()), ["report.json"]);
    }

    #[test]
    fn planted_temporary_names_are_not_followed() {
        // The old scheme's name (.NAME.<pid>.tmp) and a spray of guesses, each a symlink to a
        // victim file: none is written through, the victim is unchanged.
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, b"precious").unwrap();
        for name in [
            format!(".report.json.{}.tmp", std::process::id()),
            ".report.json.tmp".to_string(),
            "report.json.tmp".to_string(),
        ] {
            std::os::unix::fs::symlink(&victim, dir.path().join(name)).unwrap();
        }
        let path = dir.path().join("report.json");
        write_atomically(&path, b"report").unwrap();
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
        assert_eq!(std::fs::read(&path).unwrap(), b"report");
        assert!(
            !std::fs::symlink_metadata(&path)
                .unwrap()
                .file_type()
                .is_symlink()
        );
    }

    #[test]
    fn a_symlink_or_device_destination_is_refused_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, b"precious").unwrap();
        let link = dir.path().join("report.json");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        let e = write_atomically(&link, b"report").unwrap_err();
        assert!(e.to_string().contains("symbolic link"), "{e}");
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        let e = AtomicFile::create(Path::new("/dev/null")).unwrap_err();
        assert!(e.to_string().contains("not a regular file"), "{e}");
        let e = AtomicFile::create(dir.path()).unwrap_err();
        assert!(e.to_string().contains("directory"), "{e}");
        assert_eq!(entries(dir.path()), ["report.json", "victim"]);
    }

    #[test]
    fn a_failure_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.json");
        let mut f = AtomicFile::create(&path).unwrap();
        f.write_all(b"half").unwrap();
        assert_eq!(entries(dir.path()).len(), 1, "the temporary file exists");
        drop(f);
        assert!(entries(dir.path()).is_empty());
        // A destination that turned into a directory while writing: the rename fails, and
        // nothing is left behind.
        let mut f = AtomicFile::create(&path).unwrap();
        f.write_all(b"whole").unwrap();
        std::fs::create_dir(&path).unwrap();
        assert!(f.commit().is_err());
        assert_eq!(entries(dir.path()), ["report.json"]);
        assert!(path.is_dir());
    }

    #[test]
    fn the_mode_is_what_a_plain_create_gives() {
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("plain");
        std::fs::File::create(&plain).unwrap();
        let ours = dir.path().join("ours");
        write_atomically(&ours, b"x").unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&ours), mode(&plain));
    }
}
