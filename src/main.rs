//! The `anyon` binary: parse the command line, set up logging and the runtime, then run a headless
//! subcommand or open the window.

use std::process::ExitCode;

use anyon::app::{AnyonApp, StartOptions};
use anyon::backend::Backend;
use anyon::cli::Cli;
use anyon::domain::auth_server::OnLogin;
use anyon::domain::instance::{self, Claim};
use anyon::domain::process::TerminateOnDrop;
use anyon::domain::settings::requests::LoadSettings;
use anyon::state::SettingsStore;
use anyon::state::handover::{self, Handover};
use anyon::util::paths::DataPaths;
use clap::Parser;
use std::sync::Arc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let paths = match DataPaths::from_env() {
        Ok(paths) => paths,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(error) = paths.ensure() {
        eprintln!(
            "error: cannot create the data folder {}: {error}",
            paths.root().display()
        );
        return ExitCode::FAILURE;
    }
    let headless = cli.command.is_some();
    let _log_guard = anyon::util::logging::init(&paths, if headless { "warn" } else { "info" });
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("anyon-worker")
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match cli.command {
        // A link from the browser goes to the window (started here when none runs).
        Some(anyon::cli::Noun::OpenUrl { .. }) => run_window(&runtime, paths, cli.handover()),
        Some(noun) => {
            let (backend, events) = Backend::open(runtime.handle().clone(), paths);
            let _terminate = TerminateOnDrop(backend.processes().clone());
            ExitCode::from(anyon::cli::run(&backend, events, noun).clamp(0, 255) as u8)
        }
        None => run_window(&runtime, paths, cli.handover()),
    }
}

fn run_window(runtime: &tokio::runtime::Runtime, paths: DataPaths, handover: Handover) -> ExitCode {
    let listener = match instance::claim(&paths, &handover) {
        Ok(Claim::Forwarded) => {
            tracing::info!("handed the arguments to the running ANYON");
            return ExitCode::SUCCESS;
        }
        Ok(Claim::Primary(listener)) => Some(listener),
        Err(error) => {
            tracing::warn!(%error, "single-instance socket unavailable; running without it");
            None
        }
    };
    let (backend, events) = Backend::open(runtime.handle().clone(), paths.clone());
    let (handovers, inbox) = handover::channel();
    let deliver = handovers.clone();
    let deliver: instance::Deliver<Handover> = Arc::new(move |handover| {
        deliver.deliver(handover);
    });
    let _instance = listener.and_then(|listener| match listener.serve(runtime.handle(), deliver) {
        Ok(guard) => Some(guard),
        Err(error) => {
            tracing::warn!(%error, "cannot serve the single-instance socket");
            None
        }
    });
    let _terminate = TerminateOnDrop(backend.processes().clone());
    let screen = handover.screen;
    if handover.action.is_some() {
        // Nobody was running to take it: this window handles it as if it had been handed over.
        handovers.deliver(handover);
    }
    // The embedded auth server (its address shows on the Account screen); the window works without it.
    // It tells the window of a finished sign-in directly, as a handover.
    let links = handovers.clone();
    let on_login = OnLogin::new(move |link| {
        links.deliver(Handover::sign_in_link(link.url()));
    });
    let _auth = anyon::domain::auth_server::start_embedded_with(runtime.handle(), &paths, Some(on_login));
    let settings = match runtime.block_on(backend.call(LoadSettings)) {
        Ok(settings) => SettingsStore::new(settings),
        Err(error) => {
            tracing::warn!(%error, "cannot load the settings; using the defaults");
            SettingsStore::default()
        }
    };
    let options = StartOptions {
        settings,
        screen,
        bench_first_frame: std::env::var_os("ANYON_BENCH_FIRST_FRAME").is_some_and(|v| v == "1"),
        handovers: Some(inbox),
    };
    let native_options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("ANYON")
            .with_app_id("anyon")
            .with_inner_size([1180.0, 760.0])
            .with_min_inner_size([720.0, 460.0])
            .with_icon(anyon::app::icon::icon_data()),
        renderer: eframe::Renderer::Glow,
        persistence_path: Some(paths.window_state()),
        ..Default::default()
    };
    let result = eframe::run_native(
        "ANYON",
        native_options,
        Box::new(move |cc| {
            close_on_signals(backend.runtime().clone(), cc.egui_ctx.clone());
            let ctx = cc.egui_ctx.clone();
            handovers.set_wake(move || ctx.request_repaint());
            Ok(Box::new(AnyonApp::new(cc, backend, events, options)))
        }),
    );
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "the window failed");
            eprintln!(
                "error: cannot open the window: {error}\n\
                 ANYON needs a graphical session (DISPLAY or WAYLAND_DISPLAY) with OpenGL; \
                 headless commands work without one (see `anyon --help`)."
            );
            ExitCode::FAILURE
        }
    }
}

/// SIGTERM and SIGINT close the window the normal way, so its state is saved and children are ended.
fn close_on_signals(runtime: tokio::runtime::Handle, ctx: egui::Context) {
    runtime.spawn(async move {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let (Ok(mut term), Ok(mut int)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) else {
                return;
            };
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }
        #[cfg(not(unix))]
        if tokio::signal::ctrl_c().await.is_err() {
            return;
        }
        tracing::info!("closing on signal");
        ctx.send_viewport_cmd(egui::ViewportCommand::Close);
        ctx.request_repaint();
    });
}
