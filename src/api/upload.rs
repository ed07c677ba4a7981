//! A request body read as a blocking `std::io::Read`, chunk by chunk: an
//! async task pulls the body's frames into a bounded channel that a reader
//! on a blocking thread drains, so an upload is parsed while it arrives and
//! never held whole (at most `CHUNKS_IN_FLIGHT` frames wait).
//!
//! It must never hide a body that ended badly: a read error (the client
//! went away, the size limit cut it) reaches the reader as an `io::Error`.

use std::io::Read;

use axum::body::{Body, Bytes};
use futures_util::StreamExt;
use tokio::sync::mpsc;

/// Frames read ahead of the parser.
const CHUNKS_IN_FLIGHT: usize = 16;

type Chunk = Result<Bytes, std::io::Error>;

/// The reading end: blocks on the channel, so use it on a blocking thread.
pub struct BodyReader {
    receiver: mpsc::Receiver<Chunk>,
    current: Bytes,
}

impl Read for BodyReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match self.receiver.blocking_recv() {
                Some(Ok(chunk)) => self.current = chunk,
                Some(Err(e)) => return Err(e),
                None => return Ok(0),
            }
        }
        let n = out.len().min(self.current.len());
        out[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}

/// Starts pulling `body` on the runtime and returns its reader.
pub fn stream(body: Body) -> BodyReader {
    let (sender, receiver) = mpsc::channel(CHUNKS_IN_FLIGHT);
    tokio::spawn(async move {
        let mut frames = body.into_data_stream();
        while let Some(frame) = frames.next().await {
            let failed = frame.is_err();
            let chunk = frame.map_err(std::io::Error::other);
            // The reader stopped (it failed on a line): stop reading too.
            if sender.send(chunk).await.is_err() || failed {
                return;
            }
        }
    });
    BodyReader {
        receiver,
        current: Bytes::new(),
    }
}
