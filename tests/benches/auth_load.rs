//! The auth server under load: `wrk` on loopback against `GET /auth/verify` and `GET /auth/me`, beside a
//! minimal hyper server that answers a constant, all in the same run. Each endpoint is measured twice:
//! with one token on every request (after the first, every check is a validation-cache hit) and with
//! requests cycling through [`DISTINCT_TOKENS`] valid tokens, more than the cache holds, so every check
//! decodes and verifies the signature (cache misses).
//!
//!     cargo bench --bench auth_load [-- SECONDS [CONNECTIONS]]
//!
//! Needs `wrk` on `PATH` (Debian: `apt-get install wrk`); without it the bench says so and exits 1. Each
//! target gets a 2-second warm-up, then a measured run (10 s and 64 connections unless given); the table
//! shows requests per second, the p50 and p99 latencies, the non-2xx answers and wrk's socket errors
//! (connect, read, write, timeout). The target, 20,000 requests per second for both endpoints on 2 cores
//! with no error of either kind, is printed as met or not; a wrk run that cannot be read exits 1.
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
/// Tokens the cache-miss runs cycle through: five times the validation cache's capacity (10,000), which
/// it empties when full, so no token is still cached when it comes round again.
const DISTINCT_TOKENS: usize = 50_000;

/// wrk's script for the cache-miss runs: reads the tokens (one per line) from the file given after `--`
/// and sends the next one on each request.
const ROTATE_LUA: &str = r#"
local tokens = {}
local next_index = 0
function init(args)
  for line in io.lines(args[1]) do tokens[#tokens + 1] = line end
end
function request()
  next_index = next_index % #tokens + 1
  return wrk.format(nil, nil, { ["Authorization"] = "Bearer " .. tokens[next_index] })
end
"#;

struct Figures {
    rps: f64,
    p50: String,
    p99: String,
    non_2xx: u64,
    socket_errors: u64,
}

/// How a target's requests are authorised.
enum Auth<'a> {
    None,
    /// The same header on every request.
    Header(&'a str),
    /// A wrk script and its token file.
    Rotate(&'a std::path::Path, &'a std::path::Path),
}

fn main() {
    let numbers: Vec<u64> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let seconds = numbers.first().copied().unwrap_or(10).max(1);
    let connections = numbers.get(1).copied().unwrap_or(64).max(1);
    if Command::new("wrk").arg("--version").output().is_err() {
        eprintln!("wrk is not installed (Debian: apt-get install wrk); nothing measured");
        std::process::exit(1);
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
    let (token, many_tokens) = {
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
        let now = auth_server::now();
        let many: Vec<String> = (0..DISTINCT_TOKENS)
            .map(|_| keys.issue("bench-user", now).expect("token").0)
            .collect();
        (keys.issue("bench-user", now).expect("token").0, many)
    };
    let token_file = dir.path().join("tokens.txt");
    std::fs::write(&token_file, many_tokens.join("\n")).expect("token file");
    let script = dir.path().join("rotate.lua");
    std::fs::write(&script, ROTATE_LUA).expect("wrk script");
    let baseline = runtime.block_on(constant_server());

    let auth_header = format!("Authorization: Bearer {token}");
    let verify = format!("http://{}/auth/verify", server.addr());
    let me = format!("http://{}/auth/me", server.addr());
    let rotate = Auth::Rotate(&script, &token_file);
    let targets: [(&str, &str, Auth); 5] = [
        ("constant hyper server", &format!("http://{baseline}/"), Auth::None),
        (
            "GET /auth/verify, cache hits (one token)",
            &verify,
            Auth::Header(&auth_header),
        ),
        ("GET /auth/verify, cache misses (50,000 tokens)", &verify, rotate),
        ("GET /auth/me, cache hits (one token)", &me, Auth::Header(&auth_header)),
        (
            "GET /auth/me, cache misses (50,000 tokens)",
            &me,
            Auth::Rotate(&script, &token_file),
        ),
    ];
    println!("wrk -t1 -c{connections} -d{seconds}s on loopback, {} cores", cores());
    println!();
    println!("| target | requests/s | p50 | p99 | non-2xx | socket errors |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    let mut endpoints = Vec::new();
    for (name, url, auth) in &targets {
        let _ = wrk(url, auth, 2, connections);
        let Some(figures) = wrk(url, auth, seconds, connections) else {
            eprintln!("{name}: wrk's output could not be read; nothing measured");
            std::process::exit(1);
        };
        println!(
            "| {name} | {:.0} | {} | {} | {} | {} |",
            figures.rps, figures.p50, figures.p99, figures.non_2xx, figures.socket_errors
        );
        if !matches!(auth, Auth::None) {
            endpoints.push((name, figures));
        }
    }
    println!();
    for (name, figures) in endpoints {
        let met = figures.rps >= TARGET_RPS && figures.non_2xx == 0 && figures.socket_errors == 0;
        println!(
            "{name}: {:.0} requests/s, {} non-2xx, {} socket errors; target {TARGET_RPS:.0} with no errors: {}",
            figures.rps,
            figures.non_2xx,
            figures.socket_errors,
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
fn wrk(url: &str, auth: &Auth, seconds: u64, connections: u64) -> Option<Figures> {
    let mut command = Command::new("wrk");
    command
        .args(["-t1", "--latency"])
        .arg(format!("-c{connections}"))
        .arg(format!("-d{seconds}s"));
    match auth {
        Auth::None => {}
        Auth::Header(header) => {
            command.args(["-H", header]);
        }
        Auth::Rotate(script, _) => {
            command.arg("-s").arg(script);
        }
    }
    command.arg(url);
    if let Auth::Rotate(_, tokens) = auth {
        command.arg("--").arg(tokens);
    }
    let output = command.output().ok()?;
    if !output.status.success() {
        return None;
    }
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
        // "Socket errors: connect 0, read 0, write 0, timeout 0", printed only when there were some.
        socket_errors: field("Socket errors:").map_or(0, |rest| {
            rest.split(',')
                .filter_map(|part| part.split_whitespace().last()?.parse::<u64>().ok())
                .sum()
        }),
    })
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
