//! The queue of source runs: the watcher, the pulls and the API ask for a
//! source to be run; one background thread (see `watch`) takes the requests.
//!
//! It must never run anything itself: it only carries requests.

use std::sync::mpsc::Sender;
use std::time::Duration;

use notify_debouncer_full::DebounceEventResult;

pub(super) enum Message {
    Run(String, &'static str),
    Events(DebounceEventResult),
    Shutdown,
}

/// Asks the background thread to run a source.
#[derive(Clone)]
pub struct Runner {
    pub(super) tx: Sender<Message>,
}

impl Runner {
    pub(super) fn new(tx: Sender<Message>) -> Self {
        Runner { tx }
    }

    pub fn request(&self, source: &str, trigger: &'static str) {
        let _ = self.tx.send(Message::Run(source.to_string(), trigger));
    }

    pub(super) fn later(&self, source: &str, trigger: &'static str, after: Duration) {
        let runner = self.clone();
        let source = source.to_string();
        std::thread::spawn(move || {
            std::thread::sleep(after);
            runner.request(&source, trigger);
        });
    }
}
