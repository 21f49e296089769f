//! Helpers for the headless window tests.

use std::time::Duration;

use anyon::app::{AnyonApp, StartOptions};
use anyon::backend::{Backend, EventReceiver};
use anyon::state::nav::Screen;
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

/// Whether a label, heading or button shows `part`.
pub fn shows(harness: &Harness<'_, AnyonApp>, part: &str) -> bool {
    harness
        .query_all_by(|n| {
            matches!(n.role(), Role::Label | Role::Heading | Role::Button)
                && [n.value(), n.label()].into_iter().flatten().any(|t| t.contains(part))
        })
        .next()
        .is_some()
}

/// Runs frames until `part` shows (events from the backend arrive between frames).
pub fn settle(harness: &mut Harness<'_, AnyonApp>, what: &str, part: &str) {
    super::wait_for(what, Duration::from_secs(60), || {
        harness.step();
        std::thread::sleep(Duration::from_millis(10));
        shows(harness, part).then_some(())
    });
    harness.run_ok();
}

/// The real window on `screen`, headless, `size` points large.
pub fn window(backend: Backend, events: EventReceiver, screen: Screen, size: egui::Vec2) -> Harness<'static, AnyonApp> {
    let options = StartOptions {
        screen: Some(screen),
        ..StartOptions::default()
    };
    window_with(backend, events, options, size)
}

/// The real window started with `options`, headless, `size` points large.
pub fn window_with(
    backend: Backend,
    events: EventReceiver,
    options: StartOptions,
    size: egui::Vec2,
) -> Harness<'static, AnyonApp> {
    Harness::builder()
        .with_size(size)
        .build_eframe(move |cc| AnyonApp::new(cc, backend, events, options))
}

/// Clicks the (first) button labelled `label` and lets two frames pass.
pub fn click(harness: &mut Harness<'_, AnyonApp>, label: &str) {
    harness
        .query_all_by(|n| n.role() == Role::Button && n.label().is_some_and(|l| l == label))
        .next()
        .unwrap_or_else(|| panic!("no button {label:?}"))
        .click();
    harness.step();
    harness.step();
}
