//! The load bench's accounting: which calls count, and the figures made of them. It lives here
//! because the bench is a `harness = false` binary, which cannot hold tests of its own; its window
//! once miscounted Login for two sessions unnoticed.

#[allow(dead_code)]
#[path = "../benches/load/report.rs"]
mod report;
#[allow(dead_code)]
#[path = "../benches/load/window.rs"]
mod window;

use std::time::{Duration, Instant};

use report::{Recorder, RpcResult};
use tonic::{Code, Status};
use window::Window;

const SECOND: Duration = Duration::from_secs(1);

#[test]
fn a_call_counts_when_it_finishes_inside_the_measured_span_whenever_it_started() {
    let start = Instant::now();
    let window = Window::starting_at(start, SECOND, 5 * SECOND);
    assert_eq!(window.measured(), 5 * SECOND);
    assert!(
        !window.counts(start + SECOND / 2),
        "finished in the warm-up"
    );
    assert!(window.counts(start + SECOND), "finished as measuring began");
    assert!(window.counts(start + 3 * SECOND));
    assert!(
        window.counts(start + 6 * SECOND),
        "finished as the window closed"
    );
    assert!(
        !window.counts(start + 6 * SECOND + Duration::from_millis(1)),
        "finished after it"
    );
}

#[tokio::test]
async fn calls_in_flight_when_measuring_begins_are_counted_and_failures_kept_apart() {
    let window = Window::starting_at(Instant::now(), Duration::from_millis(20), 10 * SECOND);
    let mut recorder = Recorder::default();
    let straddling = async {
        tokio::time::sleep(Duration::from_millis(60)).await;
        Ok::<_, Status>(())
    };
    assert!(window.time(&mut recorder, straddling).await.is_some());
    let refused = async { Err::<(), _>(Status::resource_exhausted("busy")) };
    assert!(window.time(&mut recorder, refused).await.is_none());
    assert_eq!(recorder.calls(), 1, "only successes have a latency");
    let result = RpcResult::new("login", "Login", 1, recorder, window.measured());
    assert!(
        result.p50_ms >= 60.0,
        "the whole call is timed: {}",
        result.p50_ms
    );
    assert_eq!(result.errors.get("ResourceExhausted"), Some(&1));
}

#[test]
fn percentiles_rates_and_ratios_come_from_the_merged_callers() {
    let mut first = Recorder::default();
    let mut second = Recorder::default();
    for ms in 1..=50 {
        first.record(Duration::from_millis(ms), Ok(()));
        second.record(Duration::from_millis(ms + 50), Ok(()));
    }
    second.record(SECOND, Err(Code::Unavailable));
    let merged = first.merge(second);
    assert_eq!(merged.calls(), 100);
    let result =
        RpcResult::new("refresh", "Refresh", 2, merged, 4 * SECOND).against("raw", Some(50.0));
    assert_eq!(result.calls_per_second, 25.0);
    assert_eq!(result.p50_ms, 50.0);
    assert_eq!(result.p90_ms, 90.0);
    assert_eq!(result.p99_ms, 99.0);
    assert_eq!(result.max_ms, 100.0);
    assert_eq!(result.ratio_to_limit, Some(0.5));
    assert_eq!(result.errors.get("Unavailable"), Some(&1));
    let unmeasured = RpcResult::new("refresh", "Refresh", 2, Recorder::default(), SECOND)
        .against("raw", Some(0.0));
    assert_eq!((unmeasured.p99_ms, unmeasured.ratio_to_limit), (0.0, None));
}
