//! [`LatencyHistogram`]: frame latencies (burst end delivered → frame written) in fixed memory.

use std::time::Duration;

/// Bin width, seconds (0.1 ms).
const BIN_S: f64 = 1e-4;
/// Bins: 0 … 10 s; longer latencies count in the last bin (the maximum stays exact).
const BINS: usize = 100_000;

/// Latencies counted in 0.1 ms bins up to 10 s (400 kB, allocated once), with the exact
/// maximum: p50/p99 to 0.1 ms however long a live run goes on.
#[derive(Debug, Clone)]
pub struct LatencyHistogram {
    bins: Vec<u32>,
    count: u64,
    max_s: f64,
    sum_s: f64,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        Self::new()
    }
}

impl LatencyHistogram {
    /// An empty histogram.
    pub fn new() -> Self {
        Self {
            bins: vec![0; BINS],
            count: 0,
            max_s: 0.0,
            sum_s: 0.0,
        }
    }

    /// Counts one latency.
    pub fn record(&mut self, d: Duration) {
        let s = d.as_secs_f64();
        let bin = ((s / BIN_S) as usize).min(BINS - 1);
        self.bins[bin] = self.bins[bin].saturating_add(1);
        self.count += 1;
        self.sum_s += s;
        self.max_s = self.max_s.max(s);
    }

    /// Latencies counted.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The `q`-quantile (0..=1), seconds, to the bin's upper edge (the maximum for the top
    /// quantile); `None` when empty.
    pub fn quantile_s(&self, q: f64) -> Option<f64> {
        if self.count == 0 {
            return None;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.count as f64).ceil() as u64).max(1);
        let mut seen = 0u64;
        for (i, &c) in self.bins.iter().enumerate() {
            seen += u64::from(c);
            if seen >= rank {
                // The last bin holds everything beyond 10 s: its edge says nothing.
                let edge = if i == BINS - 1 {
                    f64::INFINITY
                } else {
                    (i + 1) as f64 * BIN_S
                };
                return Some(edge.min(self.max_s));
            }
        }
        Some(self.max_s)
    }

    /// The longest latency, seconds; `None` when empty.
    pub fn max_s(&self) -> Option<f64> {
        (self.count > 0).then_some(self.max_s)
    }

    /// The mean, seconds; `None` when empty.
    pub fn mean_s(&self) -> Option<f64> {
        (self.count > 0).then(|| self.sum_s / self.count as f64)
    }

    /// `p50 X ms  p99 Y ms  max Z ms  mean W ms (N frames)`, or `no frames`.
    pub fn summary(&self) -> String {
        match (
            self.quantile_s(0.5),
            self.quantile_s(0.99),
            self.max_s(),
            self.mean_s(),
        ) {
            (Some(p50), Some(p99), Some(max), Some(mean)) => format!(
                "p50 {:.1} ms  p99 {:.1} ms  max {:.1} ms  mean {:.1} ms ({} frames)",
                p50 * 1e3,
                p99 * 1e3,
                max * 1e3,
                mean * 1e3,
                self.count
            ),
            _ => "no frames".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_to_a_tenth_of_a_millisecond() {
        let mut h = LatencyHistogram::new();
        assert_eq!(h.quantile_s(0.5), None);
        assert_eq!(h.summary(), "no frames");
        for ms in 1..=100u64 {
            h.record(Duration::from_micros(ms * 1000 + 50));
        }
        h.record(Duration::from_secs(30)); // beyond the last bin: counted, max exact
        assert_eq!(h.count(), 101);
        let p50 = h.quantile_s(0.5).unwrap();
        assert!((p50 - 0.0511).abs() < 1e-9, "{p50}");
        let p99 = h.quantile_s(0.99).unwrap();
        assert!((p99 - 0.1001).abs() < 1e-9, "{p99}");
        assert_eq!(h.max_s(), Some(30.0));
        assert_eq!(h.quantile_s(1.0), Some(30.0));
        assert!(h
            .summary()
            .starts_with("p50 51.1 ms  p99 100.1 ms  max 30000.0 ms"));
    }
}
