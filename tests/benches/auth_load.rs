//! The auth server under load: `wrk` on loopback against `GET /auth/verify` and `GET /auth/me` with a
//! valid token, beside a minimal hyper server that answers a constant, all in the same run.
//!
//!     cargo bench --bench auth_load [-- SECONDS [CONNECTIONS]]
//!
//! Needs `wrk` on `PATH` (Debian: `apt-get install wrk`). Each target gets a 2-second warm-up, then a
//! measured run (10 s and 64 connections unless given); the table shows requests per second and the
//! p50 and p99 latencies wrk reports. The issue's target, 20,000 requests per second for both
//! endpoints on 2 cores, is printed as met or not; nothing is asserted.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::process::Command;

use anyon::domain::auth_server::accounts::{self, User};
use anyon::domain::auth_server::{self, AuthConfig, Mode, TokenKeys};
use anyon::domain::db::Db;
use anyon::util::paths::DataPaths;
use bytes::Bytes;
use http_body_util::Full;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

const SECRET: &str = "bench-secret-0123456789abcdef-0123456789";
const TARGET_RPS: f64 = 20_000.0;

struct Figures {
    rps: f64,
    p50: String,
    p99: String,
    non_2xx: u64,
}

fn main() {
    let numbers: Vec<u64> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let seconds = numbers.first().copied().unwrap_or(10).max(1);
    let connections = numbers.get(1).copied().unwrap_or(64).max(1);
    if Command::new("wrk").arg("--version").output().is_err() {
        eprintln!("wrk is not installed (Debian: apt-get install wrk); nothing measured");
        return;
    }

    let dir = tempfile::Builder::new()
        .prefix("anyon-auth-bench-")
        .tempdir()
        .expect("temp dir");
    let paths = DataPaths::at(dir.path().join("data"));
    paths.ensure().expect("data folder");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");

    let mut config = AuthConfig::from_env(Mode::Embedded, Some(SocketAddr::from(([127, 0, 0, 1], 0)))).expect("config");
    config.jwt_secret = Some(SECRET.as_bytes().to_vec());
    let issuer = config.issuer.clone();
    let audience = config.audience.clone();
    let server = runtime
        .block_on(auth_server::start(config, &paths))
        .expect("auth server");
    let token = {
        let db = Db::open(&paths.database()).expect("database");
        let user = User {
            sub: "bench-user".into(),
            email: "bench@example.test".into(),
            email_verified: true,
            name: Some("Bench User".into()),
            picture: None,
        };
        accounts::upsert_user(&db.writer(), &user, auth_server::now()).expect("user");
        let keys = TokenKeys::new(SECRET.as_bytes(), &issuer, &audience).expect("keys");
        keys.issue("bench-user", auth_server::now()).expect("token").0
    };
    let baseline = runtime.block_on(constant_server());

    let auth_header = format!("Authorization: Bearer {token}");
    let targets: [(&str, String, Option<&str>); 3] = [
        ("constant hyper server", format!("http://{baseline}/"), None),
        (
            "GET /auth/verify",
            format!("http://{}/auth/verify", server.addr()),
            Some(&auth_header),
        ),
        (
            "GET /auth/me",
            format!("http://{}/auth/me", server.addr()),
            Some(&auth_header),
        ),
    ];
    println!("wrk -t1 -c{connections} -d{seconds}s on loopback, {} cores", cores());
    println!();
    println!("| target | requests/s | p50 | p99 | non-2xx |");
    println!("| --- | ---: | ---: | ---: | ---: |");
    let mut endpoint_rps = Vec::new();
    for (name, url, header) in &targets {
        let _ = wrk(url, *header, 2, connections);
        let figures = wrk(url, *header, seconds, connections).expect("wrk run");
        println!(
            "| {name} | {:.0} | {} | {} | {} |",
            figures.rps, figures.p50, figures.p99, figures.non_2xx
        );
        if header.is_some() {
            endpoint_rps.push((name, figures.rps, figures.non_2xx));
        }
    }
    println!();
    for (name, rps, non_2xx) in endpoint_rps {
        let met = rps >= TARGET_RPS && non_2xx == 0;
        println!(
            "{name}: {rps:.0} requests/s, target {TARGET_RPS:.0} with no errors: {}",
            if met { "met" } else { "NOT met" }
        );
    }
    runtime.block_on(server.shutdown());
}

/// A hyper 1 HTTP/1.1 server on a free loopback port that answers every request with a small JSON body.
async fn constant_server() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.expect("bind");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let service = hyper::service::service_fn(|_request: Request<hyper::body::Incoming>| async {
                    let mut response = Response::new(Full::new(Bytes::from_static(br#"{"status":"ok"}"#)));
                    response.headers_mut().insert(
                        hyper::header::CONTENT_TYPE,
                        hyper::header::HeaderValue::from_static("application/json"),
                    );
                    Ok::<_, Infallible>(response)
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .keep_alive(true)
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

/// Runs wrk with one thread (the server gets the rest of the machine) and reads its summary.
fn wrk(url: &str, header: Option<&str>, seconds: u64, connections: u64) -> Option<Figures> {
    let mut command = Command::new("wrk");
    command
        .args(["-t1", "--latency"])
        .arg(format!("-c{connections}"))
        .arg(format!("-d{seconds}s"));
    if let Some(header) = header {
        command.args(["-H", header]);
    }
    let output = command.arg(url).output().ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let field = |prefix: &str| {
        text.lines()
            .map(str::trim)
            .find_map(|line| line.strip_prefix(prefix))
            .map(|rest| rest.trim().to_string())
    };
    Some(Figures {
        rps: field("Requests/sec:")?.parse().ok()?,
        p50: field("50%")?,
        p99: field("99%")?,
        non_2xx: field("Non-2xx or 3xx responses:")
            .and_then(|n| n.parse().ok())
            .unwrap_or(0),
    })
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
