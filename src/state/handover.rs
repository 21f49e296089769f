//! What a later `anyon` start, or the embedded auth server, asks of the running window: a typed
//! message, delivered over the single-instance socket or straight from the server's task.

use std::sync::{Arc, RwLock};

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use super::nav::Screen;
use crate::util::sync::RwLockExt;

/// A request handed to the running window.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Handover {
    /// Bring this screen forward.
    pub screen: Option<Screen>,
    /// Then do this.
    pub action: Option<HandoverAction>,
}

/// What a handover asks the window to do besides showing a screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum HandoverAction {
    /// Finish the sign-in in progress with this `anyon://auth/callback` link.
    SignInLink { url: String },
    /// Start a Google sign-in in the browser.
    SignIn,
}

impl Handover {
    /// Finish the sign-in with `url` (from `anyon open-url` or the embedded server).
    pub fn sign_in_link(url: impl Into<String>) -> Self {
        Self {
            screen: Some(Screen::Account),
            action: Some(HandoverAction::SignInLink { url: url.into() }),
        }
    }

    /// The sign-in link this handover carries, if any.
    pub fn link(&self) -> Option<&str> {
        match &self.action {
            Some(HandoverAction::SignInLink { url }) => Some(url),
            _ => None,
        }
    }
}

type Wake = Arc<dyn Fn() + Send + Sync>;

/// The sending end; cheap to clone. Delivering wakes the window.
#[derive(Clone)]
pub struct HandoverSender {
    tx: mpsc::UnboundedSender<Handover>,
    wake: Arc<RwLock<Option<Wake>>>,
}

/// The receiving end: the window drains it each frame; `anyon auth login` waits on it.
pub struct HandoverInbox {
    rx: mpsc::UnboundedReceiver<Handover>,
}

impl std::fmt::Debug for HandoverInbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HandoverInbox")
    }
}

/// A connected sender and inbox.
pub fn channel() -> (HandoverSender, HandoverInbox) {
    let (tx, rx) = mpsc::unbounded_channel();
    (
        HandoverSender {
            tx,
            wake: Arc::new(RwLock::new(None)),
        },
        HandoverInbox { rx },
    )
}

impl HandoverSender {
    /// Queues `handover` for the window and wakes it. False once the inbox is gone.
    pub fn deliver(&self, handover: Handover) -> bool {
        let delivered = self.tx.send(handover).is_ok();
        let wake = self.wake.read_or_recover().clone();
        if let Some(wake) = wake {
            wake();
        }
        delivered
    }

    /// Called after each delivery (the window's repaint request).
    pub fn set_wake(&self, wake: impl Fn() + Send + Sync + 'static) {
        *self.wake.write_or_recover() = Some(Arc::new(wake));
    }
}

impl HandoverInbox {
    /// The next waiting handover, without waiting.
    pub fn try_recv(&mut self) -> Option<Handover> {
        self.rx.try_recv().ok()
    }

    /// Waits for the next handover; None once every sender is gone.
    pub async fn recv(&mut self) -> Option<Handover> {
        self.rx.recv().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handovers_arrive_in_order_and_wake_the_window() {
        let (sender, mut inbox) = channel();
        let woken = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = woken.clone();
        sender.set_wake(move || {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        });
        let show = Handover {
            screen: Some(Screen::Usage),
            action: None,
        };
        assert!(sender.deliver(show.clone()));
        assert!(sender.deliver(Handover::sign_in_link("anyon://auth/callback?code=c&state=s")));
        assert_eq!(woken.load(std::sync::atomic::Ordering::SeqCst), 2);
        assert_eq!(inbox.try_recv(), Some(show));
        let link = inbox.try_recv();
        assert_eq!(
            link.as_ref().and_then(Handover::link),
            Some("anyon://auth/callback?code=c&state=s")
        );
        assert_eq!(inbox.try_recv(), None);
    }

    #[test]
    fn the_wire_form_is_plain_json_and_round_trips() {
        let handover = Handover {
            screen: Some(Screen::ClaudeConfig),
            action: Some(HandoverAction::SignIn),
        };
        let json = serde_json::to_string(&handover).unwrap_or_default();
        assert_eq!(json, r#"{"screen":"claudeconfig","action":{"action":"sign_in"}}"#);
        let back: Handover = serde_json::from_str(&json).unwrap_or_default();
        assert_eq!(back, handover);
        assert!(serde_json::from_str::<Handover>(r#"{"action":{"action":"rm -rf"}}"#).is_err());
    }
}
