//! `anyon auth status|login|logout`, `anyon open-url URL` and `anyon register-scheme`: signing in to
//! ANYON from a terminal, and the deep-link plumbing the browser's callback page relies on.

use std::io::Write;
use std::time::Duration;

use clap::Subcommand;

use super::{emit, print_error, write_json};
use crate::backend::command::Command;
use crate::backend::event::{Event, Output};
use crate::backend::{Backend, BackendError, EventReceiver};
use crate::domain::instance::{self, Claim};
use crate::domain::signin::{AccountView, SignInError};

#[derive(Debug, Subcommand)]
pub enum AuthVerb {
    /// Who is signed in, checked with the auth server.
    Status {
        #[arg(long)]
        json: bool,
    },
    /// Sign in with Google in the browser; waits for the deep link, then prints the user.
    Login {
        #[arg(long)]
        json: bool,
        /// Print the sign-in address instead of opening the browser.
        #[arg(long)]
        no_browser: bool,
        /// Give up after this many seconds.
        #[arg(long, default_value_t = 600)]
        timeout: u64,
    },
    /// Revoke the token at the server and forget it here.
    Logout {
        #[arg(long)]
        json: bool,
    },
}

pub fn run(backend: &Backend, events: EventReceiver, verb: AuthVerb) -> i32 {
    let json = match &verb {
        AuthVerb::Status { json } | AuthVerb::Login { json, .. } | AuthVerb::Logout { json } => *json,
    };
    let _server = match ensure_server(backend) {
        Ok(server) => server,
        Err(error) => {
            print_error(&error, json);
            return 1;
        }
    };
    match verb {
        AuthVerb::Status { json } => finish(backend, Command::AccountStatus, json),
        AuthVerb::Logout { json } => finish(backend, Command::SignOut, json),
        AuthVerb::Login {
            json,
            no_browser,
            timeout,
        } => login(backend, events, json, !no_browser, Duration::from_secs(timeout.max(1))),
    }
}

/// Starts the embedded auth server in this process unless `ANYON_AUTH_URL` names another; the
/// handle keeps it running.
fn ensure_server(backend: &Backend) -> Result<Option<crate::domain::auth_server::ServerHandle>, BackendError> {
    if backend.auth_server().is_ok() {
        return Ok(None);
    }
    // The server tells this process of a completed sign-in directly, as it tells the window.
    let (links, mut link_rx) = tokio::sync::mpsc::unbounded_channel::<crate::domain::auth_server::LoginLink>();
    let sink = backend.sink();
    backend.runtime().spawn(async move {
        while let Some(link) = link_rx.recv().await {
            sink.send(Event::SignInLink { url: link.url() }).await;
        }
    });
    let handle = crate::domain::auth_server::start_embedded_with(backend.runtime(), backend.paths(), Some(links));
    backend.auth_server().map(|_| handle)
}

fn finish(backend: &Backend, command: Command, json: bool) -> i32 {
    super::finish(backend, command, json, |out, output| match output {
        Output::Account(view) => print_view(out, &view, json),
        other => writeln!(out, "{other:?}"),
    })
}

fn print_view(out: &mut dyn Write, view: &AccountView, json: bool) -> std::io::Result<()> {
    if json {
        return write_json(out, view);
    }
    match view {
        AccountView::SignedOut { notice } => {
            writeln!(out, "Not signed in.")?;
            if let Some(notice) = notice {
                writeln!(out, "{notice}")?;
            }
            Ok(())
        }
        AccountView::Waiting { url } => writeln!(out, "Waiting for the browser sign-in at {url}"),
        AccountView::SignedIn {
            user,
            server,
            token_storage,
        } => {
            writeln!(out, "Signed in as {} <{}>", user.display_name(), user.email)?;
            if let Some(plan) = &user.subscription {
                writeln!(out, "Plan: {}", plan.plan)?;
            }
            writeln!(out, "Server: {server}\nToken kept in: {token_storage}")
        }
    }
}

/// The browser flow from a terminal: this process takes the single-instance socket, so the
/// `anyon open-url` the browser's link starts hands the link here.
fn login(backend: &Backend, mut events: EventReceiver, json: bool, open_browser: bool, timeout: Duration) -> i32 {
    let _guard = match instance::claim(backend.paths(), &["auth".into(), "login".into()]) {
        Ok(Claim::Primary(listener)) => match listener.serve(backend.runtime(), backend.sink()) {
            Ok(guard) => guard,
            Err(error) => {
                print_error(
                    &BackendError::Account(format!("cannot receive the sign-in link: {error}")),
                    json,
                );
                return 1;
            }
        },
        Ok(Claim::Forwarded) => {
            let error = BackendError::Account("ANYON's window is running; the sign-in continues there".into());
            print_error(&error, json);
            return 1;
        }
        Err(error) => {
            print_error(
                &BackendError::Account(format!("cannot receive the sign-in link: {error}")),
                json,
            );
            return 1;
        }
    };
    let runtime = backend.runtime();
    match runtime.block_on(backend.execute(Command::SignInStart { open_browser })) {
        Ok(Output::Account(AccountView::Waiting { url })) => {
            if open_browser {
                eprintln!("Opened the browser to sign in. If it did not open, visit:\n{url}");
            } else {
                eprintln!("Open this address to sign in:\n{url}");
            }
            eprintln!("Waiting for the sign-in to complete…");
        }
        Ok(other) => {
            return emit(|out| writeln!(out, "{other:?}"));
        }
        Err(error) => {
            print_error(&error, json);
            return 1;
        }
    }
    let outcome = runtime.block_on(async {
        tokio::time::timeout(timeout, async {
            while let Some(event) = events.recv().await {
                let Some(link) = deep_link(&event) else { continue };
                match backend.execute(Command::SignInLink { url: link }).await {
                    Ok(output) => return Ok(output),
                    // A link for some other sign-in changes nothing: keep waiting for ours.
                    Err(BackendError::SignIn(
                        error @ (SignInError::WrongState | SignInError::NotStarted | SignInError::Link(_)),
                    )) => eprintln!("Ignored a link: {error}"),
                    Err(error) => return Err(error),
                }
            }
            Err(BackendError::Account(
                "the app stopped before the sign-in completed".into(),
            ))
        })
        .await
        .unwrap_or_else(|_| {
            Err(BackendError::Account(format!(
                "the sign-in did not complete within {} seconds",
                timeout.as_secs()
            )))
        })
    });
    match outcome {
        Ok(Output::Account(view)) => emit(|out| print_view(out, &view, json)),
        Ok(other) => emit(|out| writeln!(out, "{other:?}")),
        Err(error) => {
            backend.runtime().block_on(backend.execute(Command::SignInCancel)).ok();
            print_error(&error, json);
            1
        }
    }
}

/// The sign-in link an event carries: a forwarded `anyon open-url URL`, or the embedded server's word.
pub(crate) fn deep_link(event: &Event) -> Option<String> {
    match event {
        // Read as the window reads handed-over arguments, so both accept the same forms.
        Event::InstanceArgs { args } => {
            let argv = std::iter::once("anyon").chain(args.iter().map(String::as_str));
            match <super::Cli as clap::Parser>::try_parse_from(argv) {
                Ok(super::Cli {
                    command: Some(super::Noun::OpenUrl { url }),
                    ..
                }) => Some(url),
                _ => None,
            }
        }
        Event::SignInLink { url } => Some(url.clone()),
        _ => None,
    }
}

/// `anyon register-scheme`: makes this executable the handler of `anyon://` links.
pub fn register_scheme(json: bool) -> i32 {
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(error) => {
            print_error(
                &BackendError::Account(format!("cannot find this executable: {error}")),
                json,
            );
            return 1;
        }
    };
    match crate::domain::signin::scheme::register(&exe) {
        Ok(registered) => emit(|out| {
            if json {
                return write_json(out, &registered);
            }
            writeln!(out, "Registered anyon:// links: {}", registered.location)?;
            writeln!(out, "They run: {}", registered.command)?;
            for warning in &registered.warnings {
                writeln!(out, "warning: {warning}")?;
            }
            Ok(())
        }),
        Err(error) => {
            print_error(&BackendError::Account(error.to_string()), json);
            1
        }
    }
}
