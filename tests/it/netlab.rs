//! A network namespace made by a test, for real clients and servers: the
//! namespace's loopback, processes started inside it (stopped and the
//! namespace deleted on drop), and tcpdump capturing there. Needs root and
//! the `ip` command; [`Lab::new`] says plainly why it skips otherwise.
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A network namespace with its loopback up, and a scratch folder.
pub struct Lab {
    /// The namespace's name.
    pub ns: String,
    /// A folder for the test's files (configuration, logs, captures).
    pub dir: PathBuf,
    children: Vec<Child>,
}

/// Whether a program is on the PATH.
fn has(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

impl Lab {
    /// A new namespace for `test`, or `None` (with a `SKIPPED` line naming
    /// what is missing) when not root or one of `tools` is not installed.
    pub fn new(test: &str, tools: &[&str]) -> Option<Lab> {
        let uid = Command::new("id").arg("-u").output().ok()?;
        if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
            crate::common::skip_system(&format!(
                "SKIPPED {test}: needs root (a network namespace)"
            ));
            return None;
        }
        let missing: Vec<&str> = ["ip"]
            .iter()
            .chain(tools)
            .copied()
            .filter(|t| !has(t))
            .collect();
        if !missing.is_empty() {
            crate::common::skip_system(&format!(
                "SKIPPED {test}: not installed: {} (.ci/run installs them)",
                missing.join(", ")
            ));
            return None;
        }
        let ns = format!("pl-{test}-{}", std::process::id());
        let dir = std::env::temp_dir().join(&ns);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("lab dir");
        let lab = Lab {
            ns,
            dir,
            children: Vec::new(),
        };
        lab.run(&["ip", "netns", "add", &lab.ns], false);
        lab.run(&["ip", "link", "set", "lo", "up"], true);
        Some(lab)
    }

    /// A command run inside the namespace.
    pub fn command(&self, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.ns, program]);
        c
    }

    /// Runs `args` (inside the namespace when `inside`) and requires success.
    pub fn run(&self, args: &[&str], inside: bool) {
        let (program, rest) = args.split_first().expect("a program");
        let mut c = if inside {
            self.command(program)
        } else {
            Command::new(program)
        };
        let out = c.args(rest).output().expect("run");
        assert!(
            out.status.success(),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Starts a long-running process; it is killed when the lab is dropped.
    pub fn spawn(&mut self, mut cmd: Command) {
        let child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        self.children.push(child);
    }

    /// Starts tcpdump on the namespace's loopback, writing `file`, and waits
    /// until it captures.
    pub fn tcpdump(&self, file: &Path) -> Tcpdump {
        let mut child = self
            .command("tcpdump")
            .args([
                "-i",
                "lo",
                "-s",
                "0",
                "-U",
                "--immediate-mode",
                "-Z",
                "root",
                "-w",
            ])
            .arg(file)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("tcpdump");
        // tcpdump says "listening on lo" once its socket is bound.
        let mut stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::Read;
            let mut seen = Vec::new();
            let mut byte = [0u8; 1];
            let mut told = false;
            while let Ok(1) = stderr.read(&mut byte) {
                seen.push(byte[0]);
                if !told && String::from_utf8_lossy(&seen).contains("listening on") {
                    told = true;
                    let _ = tx.send(());
                }
            }
        });
        rx.recv_timeout(Duration::from_secs(20))
            .expect("tcpdump did not start listening");
        Tcpdump { child }
    }

    /// Waits until `probe` (a command run inside the namespace) succeeds.
    pub fn wait_until(&self, what: &str, probe: &[&str]) {
        let (program, rest) = probe.split_first().expect("a program");
        let start = Instant::now();
        loop {
            let ok = self
                .command(program)
                .args(rest)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .map(|s| s.success())
                .unwrap_or(false);
            if ok {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "{what} did not come up"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = Command::new("ip").args(["netns", "del", &self.ns]).status();
    }
}

/// A running tcpdump.
pub struct Tcpdump {
    child: Child,
}

impl Tcpdump {
    /// Stops the capture (SIGINT, so the file is flushed) and waits for it.
    pub fn stop(mut self) {
        // Let the last packets reach the capture socket.
        std::thread::sleep(Duration::from_millis(300));
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}
