//! Differential check: the firmware prints the same thing under mcubench and
//! under qemu-system-arm -M mps2-an386 (QEMU is a functional reference only).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::{root, target};

fn qemu_output(image: &std::path::Path) -> Option<String> {
    let console = tempfile::NamedTempFile::new().ok()?;
    let mut child = Command::new("qemu-system-arm")
        .args([
            "-M",
            "mps2-an386",
            "-nographic",
            "-semihosting-config",
            "enable=on,target=native,chardev=console",
        ])
        .arg("-chardev")
        .arg(format!("file,id=console,path={}", console.path().display()))
        .arg("-kernel")
        .arg(image)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let started = Instant::now();
    while child.try_wait().ok()?.is_none() {
        if started.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            panic!("{}: QEMU did not finish in 120 s", image.display());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let text = std::fs::read(console.path()).ok()?;
    Some(String::from_utf8_lossy(&text).replace("\r\n", "\n"))
}

#[test]
fn workload_outputs_match_qemu() {
    if Command::new("qemu-system-arm")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("qemu-system-arm not installed: differential check skipped");
        return;
    }
    let an386 = target("mps2-an386");
    let dir = root().join("workloads/prebuilt/cortex-m4f");
    let mut compared = 0;
    for name in [
        "kernel_selftest",
        "kws_dscnn",
        "ad_autoencoder",
        "digits_mlp",
        "fedavg_reptile",
    ] {
        let image = dir.join(format!("{name}.elf"));
        let ours = mcubench::run::run_image(&image, &an386, &Default::default()).expect("runs");
        let theirs = qemu_output(&image).expect("QEMU runs");
        assert_eq!(ours.stdout, theirs, "{name}: mcubench and QEMU disagree");
        assert_eq!(ours.exit_code, Some(0), "{name}");
        compared += 1;
    }
    assert_eq!(compared, 5);
}
