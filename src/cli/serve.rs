//! `anyon serve [--bind ADDR:PORT]`: the auth server headless, the deployable external one.

use std::net::SocketAddr;

use clap::Args;

use crate::backend::Backend;
use crate::domain::auth_server::{self, AuthConfig, Mode};

/// Where to listen.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address and port to listen on (default 127.0.0.1 with `ANYON_AUTH_PORT` or 4000).
    #[arg(long, env = "ANYON_AUTH_BIND")]
    pub bind: Option<SocketAddr>,
}

/// Serves until interrupted (Ctrl-C / SIGINT or SIGTERM).
pub fn run(backend: &Backend, args: ServeArgs) -> i32 {
    let config = match AuthConfig::from_env(Mode::Serve, args.bind) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("error: {error}");
            return 1;
        }
    };
    backend.runtime().block_on(async {
        let server = match auth_server::start(config, backend.paths()).await {
            Ok(server) => server,
            Err(error) => {
                eprintln!("error: {error}");
                return 1;
            }
        };
        // Tests and scripts read the address from the first line.
        println!("listening on http://{}", server.addr());
        shutdown_signal().await;
        server.shutdown().await;
        0
    })
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
