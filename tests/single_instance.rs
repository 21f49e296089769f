//! Single instance across real processes: a second `anyon` hands its request over and exits 0.

use std::time::Duration;

use anyon::domain::instance::{self, Claim};
use anyon::state::handover::{self, Handover};
use anyon::state::nav::Screen;

use crate::support::{self, TempHome};

#[cfg(unix)]
#[test]
fn a_second_process_forwards_its_arguments_and_exits() {
    let home = TempHome::new();
    let runtime = support::runtime();
    let Claim::Primary(listener) = instance::claim(&home.paths(), &Handover::default()).unwrap() else {
        panic!("the test process should be the first instance");
    };
    let (handovers, mut inbox) = handover::channel();
    let deliver: instance::Deliver<Handover> = std::sync::Arc::new(move |handover| {
        handovers.deliver(handover);
    });
    let _guard = listener.serve(runtime.handle(), deliver).unwrap();

    // No display is set: the second process must not try to open a window, only forward.
    let output = home.anyon(&["--screen", "usage"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );

    let received = support::wait_for("the handover", Duration::from_secs(10), || inbox.try_recv());
    assert_eq!(
        received,
        Handover {
            screen: Some(Screen::Usage),
            action: None
        }
    );
}

#[cfg(unix)]
#[test]
fn without_a_running_instance_the_window_is_attempted_and_fails_clearly_without_a_display() {
    let home = TempHome::new();
    let output = home.anyon(&[]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cannot open the window"), "{stderr}");
    assert!(
        !home.path().join("anyon.sock").exists(),
        "the socket is removed on exit"
    );
}
