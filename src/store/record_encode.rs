//! A batch of records encoded for the `records` table (JSON, then one zstd
//! frame: `record_codec`) on rayon's threads before the batch's write
//! transaction, so the transaction's thread only compares and inserts.
//!
//! It must never change what is stored: each record is encoded exactly as
//! the serial path would (`serde_json::to_vec`, then `record_codec::compress`),
//! and results come back in the batch's order.

use rayon::prelude::*;

use super::record_codec::{self, CodecError};
use crate::record::Record;

/// Why a record could not be encoded.
#[derive(Debug, thiserror::Error)]
pub(crate) enum EncodeError {
    #[error("the record cannot be written as JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("the record's JSON cannot be compressed: {0}")]
    Compress(#[from] CodecError),
}

/// Records a rayon task encodes at a time.
const CHUNK: usize = 32;

/// A record's JSON and the bytes stored for it.
pub(crate) struct Encoded {
    pub(crate) json: Vec<u8>,
    pub(crate) stored: Vec<u8>,
}

/// Encodes one record; the error says why it could not be.
pub(crate) fn encode(record: &Record) -> Result<Encoded, EncodeError> {
    let json = serde_json::to_vec(record)?;
    let stored = record_codec::compress(&json)?;
    Ok(Encoded { json, stored })
}

/// Every record of `records` encoded, in order.
pub(crate) fn encode_batch(records: &[Record]) -> Vec<Result<Encoded, EncodeError>> {
    records.par_iter().with_min_len(CHUNK).map(encode).collect()
}
