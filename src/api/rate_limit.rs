//! Per-identity request rate limits (`[auth] rate_limit`, `rate_burst`): each
//! key, user or CLI token, and for open routes (sign-in) each client
//! address, gets its own GCRA bucket; a request over it is answered 429
//! `rate_limited` with `Retry-After` before any handler runs.
//!
//! It must never let one identity's traffic slow another's, and never
//! grow without bound: idle buckets are dropped.

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use super::ApiError;
use crate::api::error::ErrorCode;
use crate::auth::Identity;

/// Buckets kept before idle ones are swept.
const SWEEP_ABOVE: usize = 10_000;

pub struct RateLimits {
    limiter: Option<DefaultKeyedRateLimiter<String>>,
    per_second: u32,
}

impl RateLimits {
    /// `per_second` 0: no limit. `burst` defaults to twice the rate.
    pub fn new(per_second: u32, burst: Option<u32>) -> RateLimits {
        let limiter = NonZeroU32::new(per_second).map(|rate| {
            let burst = burst
                .and_then(NonZeroU32::new)
                .unwrap_or_else(|| rate.saturating_mul(NonZeroU32::MIN.saturating_add(1)));
            DefaultKeyedRateLimiter::keyed(Quota::per_second(rate).allow_burst(burst))
        });
        RateLimits {
            limiter,
            per_second,
        }
    }

    /// `Err(seconds to wait)` when `key` is over its rate.
    fn check(&self, key: &str) -> Result<(), u64> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        if limiter.len() > SWEEP_ABOVE {
            limiter.retain_recent();
        }
        let key = key.to_string();
        limiter.check_key(&key).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
        })
    }
}

/// Whose bucket a request draws from: its identity, else its address.
fn bucket(request: &Request) -> Option<String> {
    if let Some(identity) = request.extensions().get::<Identity>() {
        return Some(identity.actor.clone());
    }
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| format!("address:{}", peer.ip()))
}

pub async fn limit(
    State(limits): State<Arc<RateLimits>>,
    request: Request,
    next: Next,
) -> Response {
    let Some(key) = bucket(&request) else {
        return next.run(request).await;
    };
    match limits.check(&key) {
        Ok(()) => next.run(request).await,
        Err(wait) => {
            let wait = wait.max(1);
            let mut response = ApiError {
                status: StatusCode::TOO_MANY_REQUESTS,
                code: ErrorCode::RateLimited,
                message: format!(
                    "more than {} requests per second ([auth] rate_limit); retry in {wait} s",
                    limits.per_second
                ),
            }
            .into_response();
            if let Ok(value) = HeaderValue::from_str(&wait.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            response
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_key_has_its_own_bucket_and_no_limit_means_none() {
        let limits = RateLimits::new(1, Some(3));
        for _ in 0..3 {
            assert!(limits.check("key:a").is_ok());
        }
        let wait = limits.check("key:a").unwrap_err();
        assert!((1..=2).contains(&wait), "{wait}");
        assert!(
            limits.check("key:b").is_ok(),
            "another identity is not slowed"
        );
        let open = RateLimits::new(0, None);
        for _ in 0..1000 {
            assert!(open.check("key:a").is_ok());
        }
    }
}
