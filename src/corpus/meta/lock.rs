//! One process at a time in a run directory.
//!
//! Two processes writing the same run interleave appends and checkpoints and
//! corrupt it silently (a restart recipe that starts a second copy by mistake
//! is enough), so every command that writes into a run directory first takes
//! an exclusive lock on `DIR/stance.lock` and holds it to the end. The
//! operating system drops the lock when the process ends, however it ends,
//! so a killed run never leaves a stale lock behind. The file itself stays
//! (removing it would let two processes lock two different files) and holds
//! a line naming the holder, for the message the next process prints.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::error::{Error, Result};

use super::super::output::{open_checked, LOCK};
use super::timestamp;

/// An exclusive lock on a run directory, held until dropped.
#[derive(Debug)]
pub struct DirLock {
    /// Locked for as long as it is open.
    _file: File,
    path: PathBuf,
}

impl DirLock {
    /// Locks `dir` (which must exist) for `holder` (e.g. the command line), or
    /// fails at once, naming the process that holds it.
    ///
    /// ```
    /// use stance::corpus::DirLock;
    /// let dir = tempfile::tempdir()?;
    /// let first = DirLock::acquire(dir.path(), "first")?;
    /// let second = DirLock::acquire(dir.path(), "second").unwrap_err();
    /// assert!(second.to_string().contains("first"), "{second}");
    /// drop(first);
    /// DirLock::acquire(dir.path(), "third")?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InUse`] when another process holds the lock; [`Error::Io`]
    /// when the lock file cannot be created or locked (a link planted in its
    /// place included).
    pub fn acquire(dir: &Path, holder: &str) -> Result<DirLock> {
        let path = dir.join(LOCK);
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        let mut file = open_checked(&path, &options)?;
        let locked = file.try_lock();
        match locked {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(Error::InUse {
                    path: dir.to_path_buf(),
                    holder: read_holder(&mut file),
                })
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(Error::io(
                    &path,
                    std::io::Error::new(e.kind(), format!("cannot lock: {e}")),
                ))
            }
        }
        let line = format!(
            "pid {} since {}: {holder}\n",
            std::process::id(),
            timestamp(SystemTime::now())
        );
        let io = |e| Error::io(&path, e);
        file.set_len(0).map_err(io)?;
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        file.write_all(line.as_bytes()).map_err(io)?;
        Ok(DirLock { _file: file, path })
    }

    /// The lock file.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The process that holds `dir`'s lock now, as its line names it; `None` when no process
    /// does (or `dir` has no lock file). Looks without taking the lock or writing: a directory
    /// only read (a run being merged or reported) is left as it was.
    #[must_use]
    pub fn holder(dir: &Path) -> Option<String> {
        let path = dir.join(LOCK);
        if std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink()) {
            return None;
        }
        let mut file = File::open(&path).ok()?;
        match file.try_lock_shared() {
            Err(std::fs::TryLockError::WouldBlock) => Some(read_holder(&mut file)),
            _ => None,
        }
    }
}

/// The holder's line, or a placeholder while it is being written.
fn read_holder(file: &mut File) -> String {
    let mut text = String::new();
    // A line is short: read a bounded prefix, whatever the file holds.
    let _ = Read::by_ref(file).take(1024).read_to_string(&mut text);
    let text = text.trim();
    if text.is_empty() {
        "holder not yet recorded".to_owned()
    } else {
        text.to_owned()
    }
}
