//! `anyon auth status|login|logout`, `anyon open-url URL` and `anyon register-scheme`: signing in to
//! ANYON from a terminal, and the deep-link plumbing the browser's callback page relies on.

use std::io::Write;
use std::time::Duration;

use clap::Subcommand;

use super::{emit, print_error, write_json};
use crate::backend::command::Command;
use crate::backend::event::Replies;
use crate::backend::{Backend, BackendError, EventReceiver};
use crate::domain::auth_server::OnLogin;
use crate::domain::instance::{self, Claim};
use crate::domain::signin::requests::{AccountStatus, SignInCancel, SignInLink, SignInStart, SignOut};
use crate::domain::signin::{AccountView, SignInError};
use crate::state::handover::{self, Handover, HandoverAction, HandoverInbox, HandoverSender};
use crate::state::nav::Screen;
use crate::util::request::Ask;

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
    // Nothing here waits on the backend's events; holding the receiver keeps their senders working.
    let _events = events;
    let json = match &verb {
        AuthVerb::Status { json } | AuthVerb::Login { json, .. } | AuthVerb::Logout { json } => *json,
    };
    let (handovers, inbox) = handover::channel();
    let _server = match ensure_server(backend, &handovers) {
        Ok(server) => server,
        Err(error) => {
            print_error(&error, json);
            return 1;
        }
    };
    match verb {
        AuthVerb::Status { json } => finish(backend, AccountStatus, json),
        AuthVerb::Logout { json } => finish(backend, SignOut, json),
        AuthVerb::Login {
            json,
            no_browser,
            timeout,
        } => login(
            backend,
            (handovers, inbox),
            json,
            !no_browser,
            Duration::from_secs(timeout.max(1)),
        ),
    }
}

/// Starts the embedded auth server in this process unless `ANYON_AUTH_URL` names another; the
/// handle keeps it running.
fn ensure_server(
    backend: &Backend,
    handovers: &HandoverSender,
) -> Result<Option<crate::domain::auth_server::ServerHandle>, BackendError> {
    if backend.auth_server().is_ok() {
        return Ok(None);
    }
    // The server tells this process of a completed sign-in directly, as it tells the window.
    let links = handovers.clone();
    let on_login = OnLogin::new(move |link| {
        links.deliver(Handover::sign_in_link(link.url()));
    });
    let handle = crate::domain::auth_server::start_embedded_with(backend.runtime(), backend.paths(), Some(on_login));
    backend.auth_server().map(|_| handle)
}

fn finish<Q>(backend: &Backend, request: Q, json: bool) -> i32
where
    Q: Ask<Reply = AccountView>,
    Command: From<Q::Request>,
    Q::Replies: Replies,
{
    super::answer(backend, request, json, |out, view| print_view(out, &view, json))
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
fn login(
    backend: &Backend,
    (handovers, mut inbox): (HandoverSender, HandoverInbox),
    json: bool,
    open_browser: bool,
    timeout: Duration,
) -> i32 {
    let ask = Handover {
        screen: Some(Screen::Account),
        action: Some(HandoverAction::SignIn),
    };
    let deliver: instance::Deliver<Handover> = std::sync::Arc::new(move |handover| {
        handovers.deliver(handover);
    });
    let _guard = match instance::claim(backend.paths(), &ask) {
        Ok(Claim::Primary(listener)) => match listener.serve(backend.runtime(), deliver) {
            Ok(guard) => guard,
            Err(error) => {
                print_error(&BackendError::LinkInbox(error), json);
                return 1;
            }
        },
        Ok(Claim::Forwarded) => {
            print_error(&BackendError::SignInInWindow, json);
            return 1;
        }
        Err(error) => {
            print_error(&BackendError::LinkInbox(error), json);
            return 1;
        }
    };
    let runtime = backend.runtime();
    match super::call(backend, SignInStart { open_browser }) {
        Ok(AccountView::Waiting { url }) => {
            if open_browser {
                eprintln!("Opened the browser to sign in. If it did not open, visit:\n{url}");
            } else {
                eprintln!("Open this address to sign in:\n{url}");
            }
            eprintln!("Waiting for the sign-in to complete…");
        }
        Ok(other) => {
            return emit(|out| print_view(out, &other, json));
        }
        Err(error) => {
            print_error(&error, json);
            return 1;
        }
    }
    let outcome = runtime.block_on(async {
        tokio::time::timeout(timeout, async {
            while let Some(handover) = inbox.recv().await {
                let Some(link) = handover.link() else { continue };
                match backend.call(SignInLink { url: link.to_owned() }).await {
                    Ok(Some(view)) => return Ok(view),
                    // The same link delivered twice (by the browser and by the server): the first counts.
                    Ok(None) => {}
                    // A link for some other sign-in changes nothing: keep waiting for ours.
                    Err(BackendError::SignIn(
                        error @ (SignInError::WrongState | SignInError::NotStarted | SignInError::Link(_)),
                    )) => eprintln!("Ignored a link: {error}"),
                    Err(error) => return Err(error),
                }
            }
            Err(BackendError::SignInAbandoned)
        })
        .await
        .unwrap_or_else(|_| Err(BackendError::SignInTimedOut(timeout)))
    });
    match outcome {
        Ok(view) => emit(|out| print_view(out, &view, json)),
        Err(error) => {
            backend.runtime().block_on(backend.call(SignInCancel)).ok();
            print_error(&error, json);
            1
        }
    }
}

/// `anyon register-scheme`: makes this executable the handler of `anyon://` links.
pub fn register_scheme(json: bool) -> i32 {
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(error) => {
            print_error(&BackendError::CurrentExe(error), json);
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
            print_error(&BackendError::Scheme(error), json);
            1
        }
    }
}
