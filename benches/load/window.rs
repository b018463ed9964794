//! When a scenario measures: a warm-up, then the measured span, and which calls count in it.

use std::{
    future::Future,
    time::{Duration, Instant},
};

use tonic::Status;

use super::report::Recorder;

#[derive(Clone, Copy, Debug)]
pub struct Window {
    measure_from: Instant,
    until: Instant,
}

impl Window {
    pub fn new(warmup: Duration, duration: Duration) -> Self {
        Self::starting_at(Instant::now(), warmup, duration)
    }

    pub fn starting_at(start: Instant, warmup: Duration, duration: Duration) -> Self {
        Self {
            measure_from: start + warmup,
            until: start + warmup + duration,
        }
    }

    pub fn measured(&self) -> Duration {
        self.until - self.measure_from
    }

    /// Whether callers should start another call.
    pub fn open(&self) -> bool {
        Instant::now() < self.until
    }

    /// Resolves when the measured part of the window begins.
    pub async fn measuring_starts(&self) {
        tokio::time::sleep_until(self.measure_from.into()).await;
    }

    /// Resolves when the window closes; calls still in flight then are not counted.
    pub async fn closes(&self) {
        tokio::time::sleep_until(self.until.into()).await;
    }

    /// A call counts if it finished inside the measured span, whenever it started: the server's
    /// work and its CPU in that span are what is reported. (Counting only calls that also started
    /// in it dropped one call per caller: at 64 callers and 0.75 s per login, 15 % of a 5 s
    /// window's logins.)
    pub fn counts(&self, finished: Instant) -> bool {
        (self.measure_from..=self.until).contains(&finished)
    }

    /// Times one call and records it if it counts in the window.
    pub async fn time<T>(
        &self,
        recorder: &mut Recorder,
        call: impl Future<Output = Result<T, Status>>,
    ) -> Option<T> {
        let started = Instant::now();
        let result = call.await;
        let finished = Instant::now();
        if self.counts(finished) {
            recorder.record(
                finished - started,
                result.as_ref().map(|_| ()).map_err(Status::code),
            );
        }
        result.ok()
    }
}
