//! Encoding beside writing: values are encoded a chunk at a time on rayon's
//! threads, one chunk ahead of the single thread that writes them into the
//! write transaction, so the encoding of the next chunk runs while this one
//! is written instead of before it (a resolution's save encodes a million
//! assignments and hundreds of thousands of customers).
//!
//! It must never reorder what it is given, nor hold more than three chunks
//! encoded and not yet all written (the one being written, one in the
//! channel, one the encoder holds while it waits); the transaction stays on
//! the caller's thread.

use std::sync::mpsc::sync_channel;

use rayon::prelude::*;

use super::StoreError;

/// Calls `write` on each item of `items` in order, with what `encode` made
/// of it. `encode` runs in parallel, a chunk of `chunk_len` items at a time,
/// one chunk ahead of `write`. It stops at the first error, of an encoding
/// or of a write, and returns it: some items may be written by then, so the
/// caller drops its transaction.
pub(super) fn write_encoded_ahead<T, E>(
    items: &[T],
    chunk_len: usize,
    encode: impl Fn(&T) -> Result<E, StoreError> + Sync,
    mut write: impl FnMut(&T, E) -> Result<(), StoreError>,
) -> Result<(), StoreError>
where
    T: Sync,
    E: Send,
{
    let chunk_len = chunk_len.max(1);
    let encode = &encode;
    // One chunk in the channel and one held by the encoder while it waits:
    // at most two chunks wait besides the one being written.
    let (encoded_chunks, received_chunks) = sync_channel::<Result<Vec<E>, StoreError>>(1);
    std::thread::scope(move |scope| {
        scope.spawn(move || {
            for chunk in items.chunks(chunk_len) {
                let encoded = chunk.par_iter().map(encode).collect::<Result<Vec<E>, _>>();
                let failed = encoded.is_err();
                // A send fails once the writer has stopped (the receiver
                // is dropped as it returns): nothing more is wanted.
                if encoded_chunks.send(encoded).is_err() || failed {
                    return;
                }
            }
        });
        // Owned here, so that returning early drops it and unblocks the
        // encoding thread before the scope joins it.
        let received_chunks = received_chunks;
        let mut chunks = items.chunks(chunk_len);
        for encoded in received_chunks.iter() {
            let chunk = chunks.next().unwrap_or_default();
            for (item, value) in chunk.iter().zip(encoded?) {
                write(item, value)?;
            }
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests;
