//! A Postgres cluster of a test's own, in a temporary directory on a free loopback port, for
//! what the shared cluster of `TEST_DATABASE_URL` must not be given or put through: TLS with a
//! CA and a server certificate the test makes, a `hostssl`-only `pg_hba.conf`, being stopped
//! and started mid-run. Dropping it stops the server and removes the directory.
//!
//! The server binaries come from `PG_BINDIR`, else the newest `/usr/lib/postgresql/<version>/bin`
//! (Debian's layout), else `pg_config --bindir`; without them the test fails and says so (it
//! never skips). As root, the cluster runs as the `postgres` user, since `initdb` refuses root.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};
use sync_meta::database_url::PostgresUrl;
use tempfile::TempDir;

/// The superuser every cluster is made with, and its password.
pub const USER: &str = "cluster_test";
pub const PASSWORD: &str = "cluster-test-password";

/// The host name in the server certificate; the cluster listens on 127.0.0.1 only.
pub const CERT_HOST: &str = "localhost";

/// What the cluster accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// `ssl = on` with a certificate for [`CERT_HOST`] signed by the cluster's own CA; only TLS
    /// connections from TCP (`hostssl`).
    TlsOnly,
    /// Plain TCP.
    Plain,
}

/// A running cluster.
pub struct Cluster {
    dir: TempDir,
    bin: PathBuf,
    port: u16,
    as_postgres: bool,
}

impl Cluster {
    /// Make the cluster and start it.
    pub fn start(transport: Transport) -> Cluster {
        let bin = bin_dir();
        let dir = tempfile::Builder::new().prefix("pg-cluster-").tempdir().expect("a temp dir");
        let as_postgres = running_as_root();
        let port = free_port();
        let cluster = Cluster { dir, bin, port, as_postgres };
        cluster.init(transport);
        cluster.pg_ctl(&["start", "-w", "-t", "60", "-l", &cluster.log().display().to_string()]);
        cluster
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn log(&self) -> PathBuf {
        self.dir.path().join("server.log")
    }

    /// The CA that signed the server certificate (PEM), for `sslrootcert`.
    pub fn ca(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// A CA that signed nothing the server shows (PEM).
    pub fn other_ca(&self) -> PathBuf {
        self.dir.path().join("other-ca.pem")
    }

    /// `postgres://USER:PASSWORD@<host>:<port>/<database>`, then `?<params>` if any.
    pub fn url(&self, host: &str, database: &str, params: &str) -> String {
        let query = if params.is_empty() { String::new() } else { format!("?{params}") };
        format!("postgres://{USER}:{PASSWORD}@{host}:{}/{database}{query}", self.port)
    }

    /// Create database `app` with the example schema's tables and sync machinery, connecting as
    /// `params` say (TLS parameters, say); its URL by `host`.
    pub fn app_database(&self, host: &str, params: &str) -> String {
        let connect = |url: &str| {
            crate::pg::connect(&PostgresUrl::parse(url).expect("a Postgres URL"))
                .unwrap_or_else(|e| panic!("{e}"))
        };
        let mut admin = connect(&self.url(host, "postgres", params));
        admin.batch_execute("CREATE DATABASE app").expect("create database app");
        let url = self.url(host, "app", params);
        let ddl = crate::ddl(&crate::example_schema()).1;
        connect(&url).batch_execute(&ddl).expect("apply the Postgres DDL");
        url
    }

    /// Stop the server as a crash or a failover would look to its clients: at once, every
    /// connection cut.
    pub fn stop(&self) {
        self.pg_ctl(&["stop", "-m", "immediate", "-w"]);
    }

    /// Start it again on the same port.
    pub fn restart(&self) {
        self.pg_ctl(&["start", "-w", "-t", "60", "-l", &self.log().display().to_string()]);
    }

    /// `initdb`, the certificates, `postgresql.conf` and `pg_hba.conf`.
    fn init(&self, transport: Transport) {
        let pwfile = self.dir.path().join("password");
        std::fs::write(&pwfile, PASSWORD).expect("write the password file");
        if transport == Transport::TlsOnly {
            self.make_certificates();
        }
        self.own_directory();
        let initdb = self.bin.join("initdb");
        let data = self.data().display().to_string();
        let pwfile = pwfile.display().to_string();
        self.run(
            &initdb,
            &[
                "-D",
                &data,
                "-U",
                USER,
                "--pwfile",
                &pwfile,
                "-A",
                "scram-sha-256",
                "-E",
                "UTF8",
                "--no-instructions",
            ],
        );
        let dir = self.dir.path().display();
        let mut conf = format!(
            "\nport = {}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{dir}'\n\
             fsync = off\nmax_connections = 40\nshared_buffers = 16MB\n",
            self.port
        );
        let hba = match transport {
            Transport::TlsOnly => {
                conf.push_str(&format!(
                    "ssl = on\nssl_cert_file = '{dir}/server.pem'\nssl_key_file = '{dir}/server.key'\n"
                ));
                "hostssl all all 127.0.0.1/32 scram-sha-256\n"
            }
            Transport::Plain => "host all all 127.0.0.1/32 scram-sha-256\n",
        };
        let data = self.data();
        append(&data.join("postgresql.conf"), &conf);
        std::fs::write(data.join("pg_hba.conf"), hba).expect("write pg_hba.conf");
        self.own_directory();
    }

    /// A CA, a server certificate for [`CERT_HOST`] that it signs, and another CA.
    fn make_certificates(&self) {
        let ca = certificate_authority("cluster test CA");
        let server_key = KeyPair::generate().expect("a server key");
        let mut params = CertificateParams::new(vec![CERT_HOST.to_owned()]).expect("params");
        params.distinguished_name.push(DnType::CommonName, CERT_HOST);
        let server = params.signed_by(&server_key, &ca).expect("sign the server certificate");
        let other = certificate_authority("unrelated test CA");
        let dir = self.dir.path();
        std::fs::write(dir.join("ca.pem"), ca.pem()).expect("write ca.pem");
        std::fs::write(dir.join("other-ca.pem"), other.pem()).expect("write other-ca.pem");
        std::fs::write(dir.join("server.pem"), server.pem()).expect("write server.pem");
        let key = dir.join("server.key");
        std::fs::write(&key, server_key.serialize_pem()).expect("write server.key");
        // Postgres refuses a key others can read.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    }

    /// As root, hand the directory to the `postgres` user the server runs as.
    fn own_directory(&self) {
        if self.as_postgres {
            let dir = self.dir.path().display().to_string();
            must(Command::new("chown").args(["-R", "postgres:postgres", &dir]), "chown");
        }
    }

    fn pg_ctl(&self, args: &[&str]) {
        let data = self.data().display().to_string();
        let mut all = vec!["-D", &data];
        all.extend_from_slice(args);
        self.run(&self.bin.join("pg_ctl"), &all);
    }

    /// A server binary, to run as `postgres` when this is root.
    fn command(&self, program: &Path) -> Command {
        let mut command = if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        };
        command.current_dir(self.dir.path());
        command
    }

    /// Run a server binary; fail with its output and the server log.
    fn run(&self, program: &Path, args: &[&str]) {
        let output = self
            .command(program)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {program:?}: {e}"));
        if !output.status.success() {
            let log = std::fs::read_to_string(self.log()).unwrap_or_default();
            panic!("{program:?} {args:?} failed: {}\nserver log:\n{log}", text(&output));
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // Already stopped is fine; a failure is reported, not raised, so that a failing test's
        // panic stays the message.
        let (pg_ctl, data) = (self.bin.join("pg_ctl"), self.data().display().to_string());
        let status = self.command(&pg_ctl).args(["-D", &data, "status"]).output();
        if !status.is_ok_and(|o| o.status.success()) {
            return;
        }
        match self.command(&pg_ctl).args(["-D", &data, "stop", "-m", "immediate", "-w"]).output() {
            Ok(output) if output.status.success() => {}
            Ok(output) => eprintln!("could not stop the test cluster in {data}: {}", text(&output)),
            Err(e) => eprintln!("could not stop the test cluster in {data}: {e}"),
        }
    }
}

/// A self-signed CA certificate that may sign server certificates.
fn certificate_authority(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let key = KeyPair::generate().expect("a CA key");
    CertifiedIssuer::self_signed(params, key).expect("a self-signed CA")
}

/// The directory of `initdb` and `pg_ctl`.
fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("PG_BINDIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|dir| {
            dir.filter_map(|e| {
                let path = e.ok()?.path();
                let version = path.file_name()?.to_str()?.parse().ok()?;
                Some((version, path.join("bin")))
            })
            .collect()
        })
        .unwrap_or_default();
    versions.retain(|(_, bin)| bin.join("initdb").is_file());
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return bin;
    }
    let from_pg_config = Command::new("pg_config").arg("--bindir").output();
    match from_pg_config {
        Ok(out) if out.status.success() => {
            PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
        }
        _ => panic!(
            "no PostgreSQL server binaries (initdb, pg_ctl) found in PG_BINDIR, \
             /usr/lib/postgresql/<version>/bin or `pg_config --bindir`: install PostgreSQL \
             (apt-get install postgresql) or set PG_BINDIR"
        ),
    }
}

fn running_as_root() -> bool {
    let id = Command::new("id").arg("-u").output().expect("run id -u");
    String::from_utf8_lossy(&id.stdout).trim() == "0"
}

/// A loopback port nobody listens on now.
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("a local address").port()
}

fn append(path: &Path, text: &str) {
    let mut conf = std::fs::read_to_string(path).expect("read postgresql.conf");
    conf.push_str(text);
    std::fs::write(path, conf).expect("write postgresql.conf");
}

fn must(command: &mut Command, what: &str) {
    let output = command.output().unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    assert!(output.status.success(), "{what} failed: {}", text(&output));
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}
