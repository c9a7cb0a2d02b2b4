//! Reading the files a user names (policy files, target lists, observations, baselines): the
//! one capped read every reader uses. A file larger than its limit is refused by reading at
//! most one byte past the limit, so a pipe, `/dev/stdin` or a file that grows while it is
//! read cannot make us load more than the limit, whatever its metadata says.

use std::io::Read;
use std::path::Path;

/// Why a file could not be read. The caller adds the file's name and what it is for.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file could not be opened (missing, no permission, ...).
    #[error("cannot open: {0}")]
    Open(std::io::Error),
    /// It opened but reading it failed (a directory, an I/O error, ...).
    #[error("cannot read: {0}")]
    Read(std::io::Error),
    #[error("larger than the {limit} bytes it may have")]
    TooLarge { limit: u64 },
}

/// The bytes of `path`, at most `limit` of them; [`ReadError::TooLarge`] past that.
pub fn read_capped(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    let file = std::fs::File::open(path).map_err(ReadError::Open)?;
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(ReadError::Read)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge { limit });
    }
    Ok(bytes)
}

/// [`read_capped`] for a reader whose error tells "cannot read" (`io`: opening or reading
/// failed) from "too large" (`too_large`, given the limit) and nothing finer.
pub fn read_capped_or<E>(
    path: &Path,
    limit: u64,
    io: impl FnOnce(std::io::Error) -> E,
    too_large: impl FnOnce(u64) -> E,
) -> Result<Vec<u8>, E> {
    read_capped(path, limit).map_err(|e| match e {
        ReadError::Open(source) | ReadError::Read(source) => io(source),
        ReadError::TooLarge { limit } => too_large(limit),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_up_to_the_limit_and_refuses_one_byte_more() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"12345").unwrap();
        assert_eq!(read_capped(&path, 5).unwrap(), b"12345");
        assert!(matches!(
            read_capped(&path, 4),
            Err(ReadError::TooLarge { limit: 4 })
        ));
        assert!(matches!(
            read_capped(&dir.path().join("missing"), 4),
            Err(ReadError::Open(_))
        ));
    }

    #[test]
    fn a_pipe_is_capped_by_reading() {
        // /dev/zero has no size to ask for; the read must stop one byte past the limit.
        let e = read_capped(Path::new("/dev/zero"), 1 << 20).unwrap_err();
        assert!(matches!(e, ReadError::TooLarge { .. }));
    }
}
