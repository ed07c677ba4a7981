//! Reliability end to end (issue 22): hostile requests answer 4xx and
//! never kill or stall the real server; damaged files lose only their
//! damaged part, said with its position; overlong values are bounded.

mod crash;
mod damaged_files;
mod hostile_requests;
mod long_values;
mod properties;
mod server_limits;
