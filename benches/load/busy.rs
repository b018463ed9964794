//! Set-up calls (registering the bench users, signing callers in) that the service may refuse as
//! busy while its hashing pool is full.

use std::time::Duration;

use tonic::{Code, Status};

/// How often, and how far apart, a set-up call is tried while the service is busy.
#[derive(Clone, Copy, Debug)]
pub struct Patience {
    pub tries: u32,
    pub pause: Duration,
}

/// Five seconds of refusals before the bench gives up.
pub const SET_UP: Patience = Patience {
    tries: 100,
    pause: Duration::from_millis(50),
};

/// Calls until the service stops answering RESOURCE_EXHAUSTED, as a well-behaved client would;
/// any other answer, or the last refusal, is returned as it is.
pub async fn retry_while_busy<T, F, Fut>(patience: Patience, mut call: F) -> Result<T, Status>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Status>>,
{
    let mut tries = 1;
    loop {
        match call().await {
            Err(status) if status.code() == Code::ResourceExhausted && tries < patience.tries => {
                tries += 1;
                tokio::time::sleep(patience.pause).await;
            }
            answer => return answer,
        }
    }
}
