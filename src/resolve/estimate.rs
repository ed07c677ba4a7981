//! Fellegi–Sunter m and u probabilities estimated without labels, as Splink
//! does: u (how often a comparison level happens between records of two
//! different entities) from random pairs of the book, m (how often it
//! happens between records of one entity) by expectation-maximisation on
//! the candidate pairs the blocking rules proposed, u held fixed. A level's
//! weight is log2(m / u) bits; a missing value is neither for nor against.
//!
//! The comparison levels are the ones the matching models already name in
//! their evidence (`name close`, `birth date one part differs`, …): each
//! pair is read as one level per feature, so the estimator works for any
//! model that reports its levels. It must never link anything itself, nor
//! change what a level means: it only measures and reweighs levels.

use std::collections::{BTreeMap, HashMap};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::evidence::Evidence;

/// Random pairs read for u at most (every pair of a small book).
pub const RANDOM_PAIRS: usize = 30_000;
/// Candidate pairs EM reads at most (an even sample of a larger set).
pub const EM_PAIRS: usize = 100_000;
/// EM stops after this many rounds, or once no probability moves more
/// than [`TOLERANCE`].
const MAX_ITERATIONS: usize = 100;
const TOLERANCE: f64 = 1e-6;
/// Counts added to every level, so that a level never seen among random
/// pairs (two different people sharing an email) gets a small u, not 0.
const PSEUDO_COUNT: f64 = 0.5;
/// An estimated weight never goes past this many bits either way.
const MAX_BITS: f64 = 30.0;

/// The estimate of one comparison level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LevelEstimate {
    pub level: String,
    /// P(level | one entity), by EM.
    pub m: f64,
    /// P(level | two entities), from random pairs.
    pub u: f64,
    /// log2(m / u).
    pub bits: f64,
    /// The hand-set weight the model gives this level (the mean, where it
    /// depends on the value, as a name's weight does on its frequency).
    pub hand_bits: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureEstimate {
    pub feature: String,
    pub levels: Vec<LevelEstimate>,
}

/// One EM training session: the candidate pairs a blocking rule keys on
/// (those agreeing on `feature` at one of `levels`), that feature left out,
/// as Splink trains on one blocking rule at a time.
#[derive(Debug, Clone, Copy)]
pub struct Session {
    pub feature: &'static str,
    pub levels: &'static [&'static str],
}

/// What one session found.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SessionReport {
    /// `blocked on email shared`.
    pub session: String,
    pub pairs: usize,
    pub iterations: usize,
    pub converged: bool,
    /// The share of the session's pairs that EM takes for one entity.
    pub lambda: f64,
}

/// What EM found on one model's candidate pairs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    pub candidate_pairs: usize,
    /// Candidate pairs EM read (an even sample past [`EM_PAIRS`]).
    pub em_pairs: usize,
    pub random_pairs: usize,
    pub sessions: Vec<SessionReport>,
    pub features: Vec<FeatureEstimate>,
}

/// Feature and level names, numbered as they are first seen.
#[derive(Default)]
struct Levels {
    features: Vec<(String, Vec<String>)>,
    by_name: HashMap<String, usize>,
}

/// One pair read as (feature, level) numbers, sorted by feature; a feature
/// either side lacks is absent.
type Gamma = Vec<(u16, u16)>;

impl Levels {
    fn gamma(&mut self, e: &Evidence, hand: &mut Vec<Vec<(f64, f64)>>) -> Gamma {
        let mut gamma: Gamma = Vec::with_capacity(e.weights.len());
        for w in &e.weights {
            let f = match self.by_name.get(w.feature.as_ref()) {
                Some(&f) => f,
                None => {
                    self.features.push((w.feature.to_string(), Vec::new()));
                    hand.push(Vec::new());
                    self.by_name
                        .insert(w.feature.to_string(), self.features.len() - 1);
                    self.features.len() - 1
                }
            };
            // A feature weighed twice in one pair (two registration
            // schemes) counts once, at its first level.
            if gamma.iter().any(|(x, _)| usize::from(*x) == f) {
                continue;
            }
            let levels = &mut self.features[f].1;
            let l = match levels.iter().position(|l| *l == w.level) {
                Some(l) => l,
                None => {
                    levels.push(w.level.to_string());
                    hand[f].push((0.0, 0.0));
                    levels.len() - 1
                }
            };
            let sum = &mut hand[f][l];
            sum.0 += w.bits;
            sum.1 += 1.0;
            gamma.push((f as u16, l as u16));
        }
        gamma.sort_unstable();
        gamma
    }
}

/// Distinct comparison vectors and how many pairs had each.
fn tally(gammas: impl IntoIterator<Item = Gamma>) -> Vec<(Gamma, f64)> {
    let mut counts: HashMap<Gamma, f64> = HashMap::new();
    for g in gammas {
        *counts.entry(g).or_default() += 1.0;
    }
    let mut patterns: Vec<(Gamma, f64)> = counts.into_iter().collect();
    patterns.sort_by(|a, b| a.0.cmp(&b.0));
    patterns
}

/// Per feature and level, the share of the pairs having the feature that
/// fall in the level (weighted by `weight` of each pattern), smoothed.
fn shares(
    shape: &[usize],
    patterns: &[(Gamma, f64)],
    weight: impl Fn(usize) -> f64,
) -> Vec<Vec<f64>> {
    let mut counts: Vec<Vec<f64>> = shape.iter().map(|&n| vec![PSEUDO_COUNT; n]).collect();
    for (i, (gamma, count)) in patterns.iter().enumerate() {
        let w = count * weight(i);
        for &(f, l) in gamma {
            counts[usize::from(f)][usize::from(l)] += w;
        }
    }
    for levels in &mut counts {
        let total: f64 = levels.iter().sum();
        for p in levels.iter_mut() {
            *p /= total;
        }
    }
    counts
}

/// The probability that a pair with comparison vector `gamma` is one entity.
fn posterior(gamma: &Gamma, m: &[Vec<f64>], u: &[Vec<f64>], lambda: f64) -> f64 {
    // In logs: a pair with many features multiplies many small numbers.
    let mut log_ratio = (lambda / (1.0 - lambda)).ln();
    for &(f, l) in gamma {
        let (f, l) = (usize::from(f), usize::from(l));
        log_ratio += (m[f][l] / u[f][l]).ln();
    }
    1.0 / (1.0 + (-log_ratio).exp())
}

/// EM for m and λ with u fixed: returns (m, λ, rounds, converged).
fn em(
    patterns: &[(Gamma, f64)],
    shape: &[usize],
    u: &[Vec<f64>],
    mut m: Vec<Vec<f64>>,
    mut lambda: f64,
) -> (Vec<Vec<f64>>, f64, usize, bool) {
    let total: f64 = patterns.iter().map(|(_, c)| c).sum();
    if total == 0.0 {
        return (m, lambda, 0, true);
    }
    for round in 1..=MAX_ITERATIONS {
        let p: Vec<f64> = patterns
            .iter()
            .map(|(g, _)| posterior(g, &m, u, lambda))
            .collect();
        let matched: f64 = patterns.iter().zip(&p).map(|((_, c), p)| c * p).sum();
        let next_lambda = (matched / total).clamp(1e-6, 1.0 - 1e-6);
        let next_m = shares(shape, patterns, |i| p[i]);
        let moved = next_m
            .iter()
            .flatten()
            .zip(m.iter().flatten())
            .map(|(a, b)| (a - b).abs())
            .fold((next_lambda - lambda).abs(), f64::max);
        m = next_m;
        lambda = next_lambda;
        if moved < TOLERANCE {
            return (m, lambda, round, true);
        }
    }
    (m, lambda, MAX_ITERATIONS, false)
}

/// A deterministic stream of random pairs (splitmix64): the same book
/// always gives the same estimate.
fn random_pairs(n: usize, count: usize) -> Vec<(usize, usize)> {
    let all = n.saturating_mul(n.saturating_sub(1)) / 2;
    if all <= count {
        return (0..n)
            .flat_map(|a| (a + 1..n).map(move |b| (a, b)))
            .collect();
    }
    let mut state: u64 = 0x5eed_2026;
    let mut next = move || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let mut pairs = Vec::with_capacity(count);
    while pairs.len() < count {
        let a = (next() % n as u64) as usize;
        let b = (next() % n as u64) as usize;
        if a != b {
            pairs.push((a.min(b), a.max(b)));
        }
    }
    pairs
}

/// The evidence of each of `pairs`, in their order, scored on every core.
fn score_all(
    pairs: &[(usize, usize)],
    score: &(impl Fn(usize, usize) -> Evidence + Sync),
) -> Vec<Evidence> {
    pairs.par_iter().map(|&(a, b)| score(a, b)).collect()
}

/// The patterns of the pairs agreeing on `feature` at one of `levels`, the
/// feature itself left out.
fn session_patterns(patterns: &[(Gamma, f64)], feature: u16, levels: &[u16]) -> Vec<(Gamma, f64)> {
    patterns
        .iter()
        .filter(|(g, _)| g.iter().any(|&(f, l)| f == feature && levels.contains(&l)))
        .map(|(g, c)| {
            (
                g.iter().copied().filter(|&(f, _)| f != feature).collect(),
                *c,
            )
        })
        .collect()
}

/// Estimates m and u for every level the model `score` reports, on `n`
/// records (slots `0..n`) and the blocking rules' `candidates`.
///
/// u comes from up to [`RANDOM_PAIRS`] random pairs. m is estimated by EM
/// once per session (the pairs one blocking rule keys on, its feature left
/// out, since every pair there agrees on it), u held fixed, m and λ
/// starting from the hand-set weights (m = u · 2^bits, normalised); a
/// feature's m is the mean over the sessions that estimated it, as Splink
/// combines its training sessions.
pub fn estimate(
    n: usize,
    candidates: &[(usize, usize)],
    sessions: &[Session],
    score: impl Fn(usize, usize) -> Evidence + Sync,
) -> Estimate {
    let _span = tracing::info_span!("estimate", records = n, pairs = candidates.len()).entered();
    let mut levels = Levels::default();
    let mut hand: Vec<Vec<(f64, f64)>> = Vec::new();
    let stride = candidates.len().div_ceil(EM_PAIRS).max(1);
    // Pairs scored on every core, then read in their order: levels are
    // numbered and the hand weights summed exactly as one thread would.
    let sampled: Vec<(usize, usize)> = candidates.iter().step_by(stride).copied().collect();
    let candidate_gammas: Vec<Gamma> = score_all(&sampled, &score)
        .iter()
        .map(|e| levels.gamma(e, &mut hand))
        .collect();
    let em_pairs = candidate_gammas.len();
    let randoms = random_pairs(n, RANDOM_PAIRS);
    let random_gammas: Vec<Gamma> = score_all(&randoms, &score)
        .iter()
        .map(|e| levels.gamma(e, &mut hand))
        .collect();
    let shape: Vec<usize> = levels.features.iter().map(|(_, l)| l.len()).collect();
    let u = shares(&shape, &tally(random_gammas), |_| 1.0);
    let hand_mean = |f: usize, l: usize| {
        let (sum, count) = hand[f][l];
        if count > 0.0 { sum / count } else { 0.0 }
    };
    // Start from what the hand weights imply: m ∝ u · 2^bits.
    let m0: Vec<Vec<f64>> = u
        .iter()
        .enumerate()
        .map(|(f, us)| {
            let raw: Vec<f64> = us
                .iter()
                .enumerate()
                .map(|(l, u)| u * hand_mean(f, l).clamp(-MAX_BITS, MAX_BITS).exp2())
                .collect();
            let total: f64 = raw.iter().sum();
            raw.iter().map(|r| r / total).collect()
        })
        .collect();
    let patterns = tally(candidate_gammas);
    // Per feature, the sum of the sessions' m and how many sessions.
    let mut m_sum: Vec<Vec<f64>> = shape.iter().map(|&k| vec![0.0; k]).collect();
    let mut m_sessions = vec![0usize; shape.len()];
    let mut reports = Vec::new();
    for session in sessions {
        let Some(&f) = levels.by_name.get(session.feature) else {
            continue;
        };
        let keyed: Vec<u16> = levels.features[f]
            .1
            .iter()
            .enumerate()
            .filter(|(_, l)| session.levels.contains(&l.as_str()))
            .map(|(i, _)| i as u16)
            .collect();
        let own = session_patterns(&patterns, f as u16, &keyed);
        let pairs: f64 = own.iter().map(|(_, c)| c).sum();
        if pairs < 1.0 {
            continue;
        }
        let (m, lambda, iterations, converged) = em(&own, &shape, &u, m0.clone(), 0.3);
        // A feature no pair of the session has keeps nothing from it.
        let mut present = vec![false; shape.len()];
        for (g, _) in &own {
            for &(g_f, _) in g {
                present[usize::from(g_f)] = true;
            }
        }
        for (g_f, m_f) in m.iter().enumerate() {
            if present[g_f] {
                m_sessions[g_f] += 1;
                for (sum, m) in m_sum[g_f].iter_mut().zip(m_f) {
                    *sum += m;
                }
            }
        }
        tracing::debug!(
            session = session.feature,
            iterations,
            converged,
            lambda,
            "EM session"
        );
        reports.push(SessionReport {
            session: format!(
                "blocked on {} {}",
                session.feature,
                session.levels.join("|")
            ),
            pairs: pairs as usize,
            iterations,
            converged,
            lambda,
        });
    }
    let m: Vec<Vec<f64>> = m_sum
        .iter()
        .enumerate()
        .map(|(f, sums)| match m_sessions[f] {
            0 => m0[f].clone(),
            k => sums.iter().map(|s| s / k as f64).collect(),
        })
        .collect();
    let features = levels
        .features
        .iter()
        .enumerate()
        .map(|(f, (feature, names))| FeatureEstimate {
            feature: feature.clone(),
            levels: names
                .iter()
                .enumerate()
                .map(|(l, level)| LevelEstimate {
                    level: level.clone(),
                    m: m[f][l],
                    u: u[f][l],
                    bits: (m[f][l] / u[f][l]).log2().clamp(-MAX_BITS, MAX_BITS),
                    hand_bits: hand_mean(f, l),
                })
                .collect(),
        })
        .collect();
    Estimate {
        candidate_pairs: candidates.len(),
        em_pairs,
        random_pairs: randoms.len(),
        sessions: reports,
        features,
    }
}

impl Estimate {
    pub fn level(&self, feature: &str, level: &str) -> Option<&LevelEstimate> {
        self.features
            .iter()
            .find(|f| f.feature == feature)?
            .levels
            .iter()
            .find(|l| l.level == level)
    }

    /// `feature level: m 0.912 u 0.0003 = +11.6 bits (hand +12.0)`, one a
    /// line.
    pub fn describe(&self) -> Vec<String> {
        let mut lines = vec![format!(
            "{} candidate pairs ({} read by EM), {} random pairs for u",
            self.candidate_pairs, self.em_pairs, self.random_pairs
        )];
        for r in &self.sessions {
            lines.push(format!(
                "EM {}: {} pairs, {} rounds{}, λ {:.4}",
                r.session,
                r.pairs,
                r.iterations,
                if r.converged { "" } else { " (not converged)" },
                r.lambda
            ));
        }
        for f in &self.features {
            for l in &f.levels {
                lines.push(format!(
                    "{} {}: m {:.4} u {:.6} = {:+.1} bits (hand {:+.1})",
                    f.feature, l.level, l.m, l.u, l.bits, l.hand_bits
                ));
            }
        }
        lines
    }
}

/// Estimated weights in a table, to reweigh a model's evidence.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Weights {
    bits: HashMap<(String, String), f64>,
}

impl Weights {
    /// The estimate's weights, except the levels `keep` says stay as the
    /// model sets them (its hand rules).
    pub fn of(estimate: &Estimate, keep: impl Fn(&str, &str) -> bool) -> Weights {
        let mut bits = HashMap::new();
        for f in &estimate.features {
            for l in &f.levels {
                if !keep(&f.feature, &l.level) {
                    bits.insert((f.feature.clone(), l.level.clone()), l.bits);
                }
            }
        }
        Weights { bits }
    }

    /// Replaces each weight of `e` that has an estimate, and its total.
    pub fn reweigh(&self, e: &mut Evidence) {
        if self.bits.is_empty() {
            return;
        }
        for w in &mut e.weights {
            if let Some(bits) = self.bits.get(&(w.feature.to_string(), w.level.to_string())) {
                w.bits = *bits;
            }
        }
        e.total = e.weights.iter().map(|w| w.bits).sum();
    }
}

/// The blocking rules' pair counts and the estimates of each model, as
/// `rapport bench resolve` reports them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelReport {
    /// Candidate pairs per blocking rule (`person email`, `organisation
    /// rare word`, …).
    pub blocking: BTreeMap<String, usize>,
    pub organisations: Option<Estimate>,
    pub people: Option<Estimate>,
    /// Whether the people's scores used the estimated weights.
    pub people_weights_estimated: bool,
}

impl ModelReport {
    /// The report as lines: each blocking rule's pairs, then each model's
    /// estimate.
    pub fn describe(&self) -> Vec<String> {
        let mut lines = vec!["candidate pairs per blocking rule:".to_string()];
        lines.extend(
            self.blocking
                .iter()
                .map(|(rule, n)| format!("  {rule}: {n}")),
        );
        for (name, estimate) in [
            ("organisations", &self.organisations),
            ("people", &self.people),
        ] {
            if let Some(estimate) = estimate {
                let used = if name == "people" && self.people_weights_estimated {
                    " (used for scoring)"
                } else {
                    " (reported; hand weights score)"
                };
                lines.push(format!("{name} m/u estimate{used}:"));
                lines.extend(estimate.describe().into_iter().map(|l| format!("  {l}")));
            }
        }
        lines
    }
}

#[cfg(test)]
mod tests;
