//! Latency samples and rates.

use std::time::Duration;

/// Latency samples in nanoseconds.
#[derive(Default, Debug)]
pub struct Samples {
    ns: Vec<u64>,
}

impl Samples {
    /// Room for `n` samples.
    pub fn with_capacity(n: usize) -> Self {
        Samples {
            ns: Vec::with_capacity(n),
        }
    }
    /// Adds one.
    pub fn push(&mut self, d: Duration) {
        self.ns.push(d.as_nanos() as u64);
    }
    /// The `q` quantile (0..=1) in microseconds.
    pub fn quantile_us(&mut self, q: f64) -> f64 {
        if self.ns.is_empty() {
            return 0.0;
        }
        self.ns.sort_unstable();
        let i = ((self.ns.len() - 1) as f64 * q).round() as usize;
        self.ns[i] as f64 / 1000.0
    }
}

/// Events per second.
pub fn rate(count: u64, elapsed: Duration) -> f64 {
    count as f64 / elapsed.as_secs_f64().max(1e-9)
}
