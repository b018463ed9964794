//! A fixed pool of OS threads for argon2, one per core by default. Each thread keeps its argon2
//! memory between hashes (a fresh 19 MiB allocation per hash costs page faults, and on tokio's
//! blocking pool left hundreds of MiB in per-thread malloc arenas), and lets it go after a quiet
//! spell. A call that cannot get a thread within the queue timeout fails fast with
//! RESOURCE_EXHAUSTED instead of queueing without bound.

use std::{
    sync::{
        Arc, Mutex,
        mpsc::{self, RecvTimeoutError},
    },
    time::Duration,
};

use argon2::Block;
use tokio::sync::{Semaphore, oneshot};

use crate::error::AuthError;

/// The argon2 working memory of one pool thread, reused from one hash to the next.
pub type Memory = Vec<Block>;

type Job = Box<dyn FnOnce(&mut Memory) + Send>;

/// How long a pool thread keeps its memory without work.
const RELEASE_MEMORY_AFTER: Duration = Duration::from_secs(30);

pub struct HashingPool {
    jobs: mpsc::Sender<Job>,
    slots: Arc<Semaphore>,
    queue_timeout: Duration,
}

impl HashingPool {
    /// Start-up only.
    pub fn new(threads: usize, queue_timeout: Duration) -> anyhow::Result<Self> {
        let (jobs, receiver) = mpsc::channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        for index in 0..threads {
            let receiver = receiver.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{index}"))
                .spawn(move || work(&receiver))?;
        }
        Ok(Self {
            jobs,
            slots: Arc::new(Semaphore::new(threads)),
            queue_timeout,
        })
    }

    /// Runs `job` on a pool thread with that thread's memory, carrying the caller's span.
    pub async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut Memory) -> T + Send + 'static,
    ) -> Result<T, AuthError> {
        let slot = tokio::time::timeout(self.queue_timeout, self.slots.clone().acquire_owned())
            .await
            .map_err(|_| AuthError::Overloaded)?
            .map_err(|_| AuthError::Overloaded)?;
        let (done, result) = oneshot::channel();
        let span = tracing::Span::current();
        let job: Job = Box::new(move |memory| {
            let _slot = slot;
            let _ = done.send(span.in_scope(|| job(memory)));
        });
        self.jobs
            .send(job)
            .map_err(|_| AuthError::internal(anyhow::anyhow!("the hashing pool has stopped")))?;
        result
            .await
            .map_err(|_| AuthError::internal(anyhow::anyhow!("a hashing job was lost")))
    }
}

fn work(receiver: &Mutex<mpsc::Receiver<Job>>) {
    yield_to_the_async_workers();
    let mut memory = Memory::new();
    loop {
        let next = match receiver.lock() {
            Ok(receiver) => receiver.recv_timeout(RELEASE_MEMORY_AFTER),
            Err(_) => return,
        };
        match next {
            Ok(job) => job(&mut memory),
            Err(RecvTimeoutError::Timeout) => memory = Memory::new(),
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

/// Hashes are throughput work; the async workers answer ValidateToken and Refresh, whose latency
/// every caller feels. At the lowest priority a hashing thread gives up its core as soon as a worker
/// needs it, instead of sharing it for a scheduler slice, and still has every idle cycle. Nice 19
/// over 10 kept ValidateToken's p99 under 64 logins within 10 ms at 64 validators (see
/// docs/PERFORMANCE.md); logins competing with that load get fewer cycles.
fn yield_to_the_async_workers() {
    #[cfg(target_os = "linux")]
    if let Err(error) = rustix::process::nice(HASHING_NICENESS) {
        tracing::warn!(error = %error, "cannot lower the hashing thread's priority");
    }
}

/// On Linux this applies to the calling thread only.
#[cfg(target_os = "linux")]
const HASHING_NICENESS: i32 = 19;

/// `memory` sized for `blocks`, growing it the first time.
pub fn blocks(memory: &mut Memory, blocks: usize) -> &mut [Block] {
    if memory.len() < blocks {
        memory.resize(blocks, Block::default());
    }
    &mut memory[..blocks]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_call_that_cannot_get_a_thread_in_time_is_refused() {
        let pool = Arc::new(HashingPool::new(1, Duration::from_millis(20)).unwrap());
        let busy = tokio::spawn({
            let pool = pool.clone();
            async move {
                pool.run(|_| std::thread::sleep(Duration::from_millis(300)))
                    .await
            }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(matches!(pool.run(|_| ()).await, Err(AuthError::Overloaded)));
        busy.await.unwrap().unwrap();
        assert!(
            pool.run(|_| ()).await.is_ok(),
            "free again once the thread is"
        );
    }

    #[tokio::test]
    async fn a_thread_keeps_its_memory_between_jobs() {
        let pool = HashingPool::new(1, Duration::from_secs(5)).unwrap();
        pool.run(|memory| blocks(memory, 8).len()).await.unwrap();
        assert_eq!(pool.run(|memory| memory.len()).await.unwrap(), 8);
    }
}
