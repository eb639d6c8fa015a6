use std::time::{Duration, SystemTime};

use mcubench_reports::output::{check_writable, write_atomic};

/// A FIFO (as a device or a terminal) given as the output is written into,
/// never renamed over.
#[test]
fn a_fifo_is_written_directly_and_stays_a_fifo() {
    use std::os::unix::fs::FileTypeExt;
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("out.fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    write_atomic(&fifo, b"hello").unwrap();
    assert_eq!(reader.join().unwrap(), "hello");
    assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
}

/// A temporary file a killed writer left an hour ago goes with the next
/// write; a fresh one (another writer at work) stays.
#[test]
fn stale_temporary_files_are_removed() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join(".mcubench-left");
    let fresh = dir.path().join(".mcubench-busy");
    std::fs::write(&old, "x").unwrap();
    std::fs::write(&fresh, "x").unwrap();
    let two_hours_ago = SystemTime::now() - Duration::from_secs(7200);
    std::fs::File::options()
        .write(true)
        .open(&old)
        .unwrap()
        .set_modified(two_hours_ago)
        .unwrap();
    write_atomic(&dir.path().join("results.json"), b"{}").unwrap();
    assert!(!old.exists());
    assert!(fresh.exists());
}

#[test]
fn a_missing_directory_is_not_writable() {
    let dir = tempfile::tempdir().unwrap();
    assert!(check_writable(dir.path()).is_ok());
    let err = check_writable(&dir.path().join("absent"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("absent"), "{err}");
}
