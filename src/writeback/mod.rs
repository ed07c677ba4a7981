//! Write-back: notes typed by staff and attributes (scores, flags, segments,
//! classifications) written by analysts, checked and shaped before the store
//! keeps them. `notes.rs` turns a note request into a record of the reserved
//! source `rapport`; `attributes.rs` reads NDJSON or CSV lines into attribute
//! changes and reports the lines it rejects.
//!
//! It must never write to the store or the index itself: the engine does,
//! after this module has said the input is good.

pub mod attributes;
pub mod notes;

use crate::customers::CustomerError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum WritebackError {
    /// The request is wrong in `field`.
    #[error("`{field}` {message}")]
    Invalid { field: String, message: String },
    #[error("no customer `{0}`")]
    CustomerNotFound(String),
    #[error("no note `{0}`")]
    NoteNotFound(String),
    /// The request body could not be read to its end.
    #[error("the body could not be read: {0}")]
    Body(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The caller's row-level scope could not be checked.
    #[error("the caller's scope could not be applied: {0}")]
    Scope(String),
}

impl WritebackError {
    pub fn invalid(field: &str, message: impl Into<String>) -> WritebackError {
        WritebackError::Invalid {
            field: field.to_string(),
            message: message.into(),
        }
    }
}

impl From<CustomerError> for WritebackError {
    fn from(e: CustomerError) -> Self {
        match e {
            CustomerError::NotFound(id) => WritebackError::CustomerNotFound(id),
            CustomerError::Invalid(m) => WritebackError::invalid("customer_id", m),
            CustomerError::Store(s) => WritebackError::Store(s),
        }
    }
}
