//! The event channel between the backend and its front ends, with the window's repaint attached.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use crate::backend::event::Event;
use crate::util::sync::RwLockExt;

pub(super) type RepaintFn = Arc<dyn Fn() + Send + Sync>;

/// The sending half of the event channel, with the window's repaint request attached.
#[derive(Clone)]
pub struct EventSink {
    pub(super) tx: mpsc::Sender<Event>,
    pub(super) repaint: Arc<RwLock<Option<RepaintFn>>>,
}

impl EventSink {
    /// Sends an event, waiting while the channel is full. Returns false once nobody listens.
    pub async fn send(&self, event: Event) -> bool {
        let delivered = self.tx.send(event).await.is_ok();
        self.request_repaint();
        delivered
    }

    /// Sends without waiting (from synchronous code); a full channel drops the event and says so.
    pub fn try_send(&self, event: Event) -> bool {
        let delivered = match self.tx.try_send(event) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(event)) => {
                tracing::warn!(?event, "event channel full; event dropped");
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        };
        self.request_repaint();
        delivered
    }

    /// The events of a Claude run, sent on as app events.
    pub fn run_events(&self) -> crate::domain::claude::run::RunEvents {
        let sink = self.clone();
        crate::domain::claude::run::RunEvents::new(move |event| {
            let sink = sink.clone();
            async move {
                sink.send(event.into()).await;
            }
        })
    }

    fn request_repaint(&self) {
        let repaint = self.repaint.read_or_recover().clone();
        if let Some(repaint) = repaint {
            repaint();
        }
    }
}

/// The window's end of the event channel.
pub struct EventReceiver {
    pub(super) rx: mpsc::Receiver<Event>,
}

impl EventReceiver {
    /// Waits for the next event (the headless CLI); None once every sender is gone.
    pub async fn recv(&mut self) -> Option<Event> {
        self.rx.recv().await
    }

    /// Hands waiting events to `apply` until none are left or `budget` is spent.
    /// Returns true when events remain (the caller should repaint again soon).
    pub fn drain(&mut self, budget: Duration, mut apply: impl FnMut(Event)) -> bool {
        let started = Instant::now();
        loop {
            match self.rx.try_recv() {
                Ok(event) => apply(event),
                Err(_) => return false,
            }
            if started.elapsed() >= budget {
                return !self.rx.is_empty();
            }
        }
    }
}
