//! The `-o` file behind a shared handle, so that `live` can switch the
//! findings to a new file at the same path on SIGHUP (logrotate without
//! `copytruncate`: rename the file, then HUP; the next line goes to a new file).
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

/// A file that [`ReopenHandle::reopen`] can replace while a sink writes to it.
pub(crate) struct ReopenableFile(Arc<Mutex<File>>);

/// Replaces the file under a [`ReopenableFile`]; also writes lines beside the
/// sink's (the live `stats` lines).
#[derive(Clone)]
pub(crate) struct ReopenHandle {
    path: PathBuf,
    file: Arc<Mutex<File>>,
}

/// Wraps the opened `-o` file at `path`.
pub(crate) fn reopenable(file: File, path: &Path) -> (ReopenableFile, ReopenHandle) {
    let file = Arc::new(Mutex::new(file));
    (
        ReopenableFile(Arc::clone(&file)),
        ReopenHandle {
            path: path.to_path_buf(),
            file,
        },
    )
}

impl Write for ReopenableFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .flush()
    }
}

impl ReopenHandle {
    /// Opens the path again (created if it is gone, appended to if it exists)
    /// and sends every later write there. The caller flushes the sink first,
    /// so that no line is split between the old file and the new one. On
    /// error the old file stays in use.
    #[cfg_attr(not(feature = "live"), allow(dead_code))]
    pub(crate) fn reopen(&self) -> io::Result<()> {
        let new = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        *self.file.lock().unwrap_or_else(PoisonError::into_inner) = new;
        Ok(())
    }

    /// The path reopened.
    #[cfg_attr(not(feature = "live"), allow(dead_code))]
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Writes `bytes` (whole lines) to the current file at once.
    #[cfg_attr(not(feature = "live"), allow(dead_code))]
    pub(crate) fn write_line(&self, bytes: &[u8]) -> io::Result<()> {
        self.file
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .write_all(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reopen_switches_to_a_new_file_at_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.jsonl");
        let file = File::create(&path).unwrap();
        let (mut w, handle) = reopenable(file, &path);
        w.write_all(b"one\n").unwrap();
        std::fs::rename(&path, dir.path().join("out.jsonl.1")).unwrap();
        w.write_all(b"two\n").unwrap();
        handle.reopen().unwrap();
        w.write_all(b"three\n").unwrap();
        handle.write_line(b"four\n").unwrap();
        let old = std::fs::read_to_string(dir.path().join("out.jsonl.1")).unwrap();
        let new = std::fs::read_to_string(&path).unwrap();
        assert_eq!(old, "one\ntwo\n");
        assert_eq!(new, "three\nfour\n");
        // Reopening an existing file appends to it.
        handle.reopen().unwrap();
        w.write_all(b"five\n").unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "three\nfour\nfive\n"
        );
    }
}
