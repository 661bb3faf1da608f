//! Test support shared by the MQTT and CoT tests here and the CLI's operator tests (included
//! there with `#[path]`): a real `mosquitto` on a free loopback port (plain, or TLS with a
//! password file), `mosquitto_sub`, and a throw-away PKI made with the `openssl` command
//! (CA, server and client certificates). `scripts/setup.sh` installs mosquitto,
//! mosquitto-clients and openssl; the tests fail without them.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A loopback port nobody listens on (just released by the OS).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `mosquitto` from PATH, or from the sbin directories Debian puts it in.
pub fn mosquitto_bin() -> PathBuf {
    sbin("mosquitto")
}

fn sbin(name: &str) -> PathBuf {
    let dirs = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    dirs.into_iter()
        .chain(["/usr/sbin", "/usr/local/sbin", "/usr/bin"].map(PathBuf::from))
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("{name} must be installed (see scripts/setup.sh)"))
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA with a server certificate for 127.0.0.1/localhost and a client certificate, as PEM
/// files in a directory (`openssl` command, P-256 keys).
pub struct Pki {
    pub dir: PathBuf,
}

impl Pki {
    /// Makes `ca.pem`/`ca.key`, `server.pem`/`server.key`, `client.pem`/`client.key` in `dir`.
    pub fn new(dir: &Path) -> Pki {
        std::fs::create_dir_all(dir).unwrap();
        let p = |f: &str| dir.join(f);
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
        ];
        run(Command::new("openssl")
            .args(["req", "-x509"])
            .args(ec)
            .arg("-keyout")
            .arg(p("ca.key"))
            .arg("-out")
            .arg(p("ca.pem"))
            .args(["-days", "2", "-subj", "/CN=droneid test CA"])
            .args(["-addext", "basicConstraints=critical,CA:TRUE"])
            .args(["-addext", "keyUsage=critical,keyCertSign,cRLSign"]));
        for (name, eku, san) in [
            (
                "server",
                "serverAuth",
                "subjectAltName=IP:127.0.0.1,DNS:localhost",
            ),
            ("client", "clientAuth", "subjectAltName=DNS:droneid-sensor"),
        ] {
            run(Command::new("openssl")
                .arg("req")
                .args(ec)
                .arg("-keyout")
                .arg(p(&format!("{name}.key")))
                .arg("-out")
                .arg(p(&format!("{name}.csr")))
                .args(["-subj", &format!("/CN={name}")]));
            let ext = p(&format!("{name}.ext"));
            std::fs::write(
                &ext,
                format!(
                    "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage={eku}\n{san}\n"
                ),
            )
            .unwrap();
            run(Command::new("openssl")
                .args(["x509", "-req", "-days", "2", "-in"])
                .arg(p(&format!("{name}.csr")))
                .arg("-CA")
                .arg(p("ca.pem"))
                .arg("-CAkey")
                .arg(p("ca.key"))
                .args(["-CAcreateserial", "-out"])
                .arg(p(&format!("{name}.pem")))
                .arg("-extfile")
                .arg(&ext));
        }
        // mosquitto drops root privileges: let it read the files.
        use std::os::unix::fs::PermissionsExt;
        for e in std::fs::read_dir(dir).unwrap() {
            let path = e.unwrap().path();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        Pki {
            dir: dir.to_path_buf(),
        }
    }

    pub fn path(&self, f: &str) -> PathBuf {
        self.dir.join(f)
    }
}

/// How a test broker listens.
pub struct BrokerConfig<'a> {
    /// TLS with this PKI's server certificate.
    pub tls: Option<&'a Pki>,
    /// Users and passwords (a password file; anonymous access is then refused).
    pub users: &'a [(&'a str, &'a str)],
}

impl BrokerConfig<'_> {
    pub fn plain() -> BrokerConfig<'static> {
        BrokerConfig {
            tls: None,
            users: &[],
        }
    }
}

/// A broker on `port`, persisting sessions in `dir` (so a restart keeps the subscriber's
/// persistent session and its queued messages). Killed on drop.
pub struct Broker {
    child: Child,
    pub port: u16,
}

impl Broker {
    pub fn start(port: u16, dir: &Path) -> Broker {
        Self::start_with(port, dir, &BrokerConfig::plain())
    }

    pub fn start_with(port: u16, dir: &Path, cfg: &BrokerConfig<'_>) -> Broker {
        // Started as root, mosquitto drops to its own user: let it write its database and log.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        let conf = dir.join("mosquitto.conf");
        let mut text = format!(
            "per_listener_settings false\npersistence true\npersistence_location {}/\n\
             log_dest file {}/broker.log\nlog_type all\nlistener {port} 127.0.0.1\n",
            dir.display(),
            dir.display()
        );
        if cfg.users.is_empty() {
            text.push_str("allow_anonymous true\n");
        } else {
            let pw = dir.join("passwd");
            std::fs::write(&pw, "").unwrap();
            for (u, p) in cfg.users {
                run(Command::new(sbin("mosquitto_passwd"))
                    .arg("-b")
                    .arg(&pw)
                    .args([u, p]));
            }
            std::fs::set_permissions(&pw, std::fs::Permissions::from_mode(0o644)).unwrap();
            text.push_str(&format!(
                "allow_anonymous false\npassword_file {}\n",
                pw.display()
            ));
        }
        if let Some(pki) = cfg.tls {
            text.push_str(&format!(
                "cafile {}\ncertfile {}\nkeyfile {}\n",
                pki.path("ca.pem").display(),
                pki.path("server.pem").display(),
                pki.path("server.key").display()
            ));
        }
        std::fs::write(&conf, text).unwrap();
        let child = Command::new(mosquitto_bin())
            .arg("-c")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start mosquitto");
        let t = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            let log = std::fs::read_to_string(dir.join("broker.log")).unwrap_or_default();
            assert!(
                t.elapsed() < Duration::from_secs(10),
                "mosquitto did not start:\n{log}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Broker { child, port }
    }

    /// Stops the broker (SIGTERM so that it saves its sessions; then waits).
    pub fn stop(mut self) {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let t = Instant::now();
        while self.child.try_wait().unwrap().is_none() {
            if t.elapsed() > Duration::from_secs(5) {
                let _ = self.child.kill();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Extra `mosquitto_sub`/`mosquitto_pub` arguments for a TLS broker with a password.
pub fn client_args(pki: Option<&Pki>, user: Option<(&str, &str)>) -> Vec<String> {
    let mut a = Vec::new();
    if let Some(p) = pki {
        a.push("--cafile".into());
        a.push(p.path("ca.pem").display().to_string());
    }
    if let Some((u, pw)) = user {
        a.extend([
            "-u".to_string(),
            u.to_string(),
            "-P".to_string(),
            pw.to_string(),
        ]);
    }
    a
}

/// `mosquitto_sub -v` on topics with QoS 1 and a persistent session; lines arrive on the
/// receiver. Returns once the subscription is in place (a probe message came through).
pub struct Subscriber {
    child: Child,
    pub lines: mpsc::Receiver<String>,
}

impl Subscriber {
    pub fn start(port: u16, topic: &str) -> Subscriber {
        Self::start_with(port, &[topic], &[])
    }

    pub fn start_with(port: u16, topics: &[&str], extra: &[String]) -> Subscriber {
        let mut cmd = Command::new("mosquitto_sub");
        cmd.args([
            "-h",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-q",
            "1",
            "-v",
            "-c",
        ])
        .args(["-i", &format!("droneid-test-sub-{port}")])
        .args(extra);
        for t in topics.iter().chain(&["probe"]) {
            cmd.args(["-t", t]);
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("mosquitto_sub must be installed (Debian package mosquitto-clients)");
        let out: ChildStdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let sub = Subscriber { child, lines };
        let t = Instant::now();
        loop {
            let ok = Command::new("mosquitto_pub")
                .args([
                    "-h",
                    "127.0.0.1",
                    "-p",
                    &port.to_string(),
                    "-t",
                    "probe",
                    "-m",
                    "x",
                ])
                .args(extra)
                .status()
                .expect("mosquitto_pub must be installed (Debian package mosquitto-clients)");
            assert!(ok.success());
            if let Ok(l) = sub.lines.recv_timeout(Duration::from_millis(200)) {
                if l == "probe x" {
                    break;
                }
            }
            assert!(
                t.elapsed() < Duration::from_secs(10),
                "subscriber not ready"
            );
        }
        sub
    }

    /// The next `n` lines, or panics after `timeout`.
    pub fn take(&self, n: usize, timeout: Duration) -> Vec<(String, String)> {
        self.take_or(n, timeout, "")
    }

    /// The next `n` lines, or panics after `timeout` showing `log`.
    pub fn take_or(&self, n: usize, timeout: Duration, log: &str) -> Vec<(String, String)> {
        let deadline = Instant::now() + timeout;
        (0..n)
            .map(|i| {
                let left = deadline.saturating_duration_since(Instant::now());
                let l = self
                    .lines
                    .recv_timeout(left)
                    .unwrap_or_else(|_| panic!("only {i} of {n} messages arrived\n{log}"));
                let (t, p) = l.split_once(' ').expect("topic payload");
                (t.to_string(), p.to_string())
            })
            .collect()
    }

    /// Every line that arrives until none has come for `quiet`.
    pub fn drain(&self, quiet: Duration) -> Vec<(String, String)> {
        let mut v = Vec::new();
        while let Ok(l) = self.lines.recv_timeout(quiet) {
            if let Some((t, p)) = l.split_once(' ') {
                v.push((t.to_string(), p.to_string()));
            }
        }
        v
    }
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The retained message on `topic` (`mosquitto_sub -C 1`, 5 s at most).
pub fn retained(port: u16, topic: &str, extra: &[String]) -> Option<String> {
    let out = Command::new("mosquitto_sub")
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-C",
            "1",
            "-W",
            "5",
            "-t",
            topic,
        ])
        .args(extra)
        .output()
        .expect("mosquitto_sub");
    let s = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (!s.is_empty()).then_some(s)
}
