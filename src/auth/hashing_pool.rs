//! A fixed pool of OS threads for argon2, one per core by default. Each thread keeps its argon2
//! memory between hashes (a fresh 19 MiB allocation per hash costs page faults, and on tokio's
//! blocking pool left hundreds of MiB in per-thread malloc arenas), and lets it go after a quiet
//! spell. A call that cannot get a thread within the queue timeout fails fast with
//! RESOURCE_EXHAUSTED instead of queueing without bound.

use std::{
    panic::{self, AssertUnwindSafe},
    sync::{
        Arc, Mutex, Weak,
        mpsc::{self, RecvTimeoutError},
    },
    time::Duration,
};

use argon2::Block;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};

use crate::error::AuthError;

/// The argon2 working memory of one pool thread, reused from one hash to the next.
pub type Memory = Vec<Block>;

/// A hash, returning the hand-over of its result, which the thread makes once it is free again.
type Job = Box<dyn FnOnce(&mut Memory) -> Delivery + Send>;

type Delivery = Box<dyn FnOnce() + Send>;

/// A job for one thread, with the slot it holds and the way back to that thread.
struct Assignment {
    job: Job,
    slot: OwnedSemaphorePermit,
    thread: Inbox,
}

type Inbox = mpsc::Sender<Assignment>;

/// The idle threads, the one that finished last on top.
type IdleThreads = Mutex<Vec<Inbox>>;

/// How long a pool thread keeps its memory without work.
const RELEASE_MEMORY_AFTER: Duration = Duration::from_secs(30);

pub struct HashingPool {
    idle: Arc<IdleThreads>,
    slots: Arc<Semaphore>,
    queue_timeout: Duration,
}

impl HashingPool {
    /// Start-up only.
    pub fn new(threads: usize, queue_timeout: Duration) -> anyhow::Result<Self> {
        let idle = Arc::new(Mutex::new(Vec::with_capacity(threads)));
        for index in 0..threads {
            let (inbox, assignments) = mpsc::channel();
            idle.lock()
                .map_err(|_| anyhow::anyhow!("hashing pool lock poisoned"))?
                .push(inbox);
            let idle = Arc::downgrade(&idle);
            std::thread::Builder::new()
                .name(format!("argon2-{index}"))
                .spawn(move || work(&assignments, &idle))?;
        }
        Ok(Self {
            idle,
            slots: Arc::new(Semaphore::new(threads)),
            queue_timeout,
        })
    }

    /// Runs `job` on a pool thread with that thread's memory, carrying the caller's span. The
    /// thread that finished last takes it: its memory is the likeliest to be still in the cache
    /// (two threads' memory is more than this machine's L3, one thread's is not).
    pub async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut Memory) -> T + Send + 'static,
    ) -> Result<T, AuthError> {
        let slot = tokio::time::timeout(self.queue_timeout, self.slots.clone().acquire_owned())
            .await
            .map_err(|_| AuthError::Overloaded)?
            .map_err(|_| AuthError::Overloaded)?;
        let stopped = || AuthError::internal(anyhow::anyhow!("the hashing pool has stopped"));
        // Each thread is back on the stack before it frees its slot, so a slot means a thread.
        let thread = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        let thread = thread.ok_or_else(stopped)?;
        let (done, result) = oneshot::channel();
        let span = tracing::Span::current();
        let job: Job = Box::new(move |memory| {
            let value = span.in_scope(|| job(memory));
            Box::new(move || {
                let _ = done.send(value);
            })
        });
        let assignment = Assignment {
            job,
            slot,
            thread: thread.clone(),
        };
        thread.send(assignment).map_err(|_| stopped())?;
        result
            .await
            .map_err(|_| AuthError::internal(anyhow::anyhow!("a hashing job was lost")))
    }
}

/// Ends once the pool is gone: then nothing holds this thread's inbox any more.
fn work(assignments: &mpsc::Receiver<Assignment>, idle: &Weak<IdleThreads>) {
    yield_to_the_async_workers();
    let mut memory = Memory::new();
    loop {
        match assignments.recv_timeout(RELEASE_MEMORY_AFTER) {
            Ok(Assignment { job, slot, thread }) => {
                // A job that panics loses its result (its caller gets an internal error), not the
                // thread: with threads on a stack, a lost thread would fail every later call that
                // its slot let through. The memory is scratch, so its state after a panic is moot.
                let deliver = panic::catch_unwind(AssertUnwindSafe(|| job(&mut memory)));
                if let Some(idle) = idle.upgrade()
                    && let Ok(mut idle) = idle.lock()
                {
                    idle.push(thread);
                }
                drop(slot);
                // Only now: a caller that hashes again at once finds this thread free.
                if let Ok(deliver) = deliver {
                    deliver();
                }
            }
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
    async fn one_job_at_a_time_stays_on_the_thread_whose_memory_is_warm() {
        let pool = HashingPool::new(2, Duration::from_secs(5)).unwrap();
        let mut threads = Vec::new();
        for _ in 0..4 {
            let name = pool.run(|_| std::thread::current().name().map(str::to_owned));
            threads.push(name.await.unwrap());
        }
        assert!(
            threads.iter().all(|thread| *thread == threads[0]),
            "{threads:?}"
        );
    }

    #[tokio::test]
    async fn a_job_that_panics_fails_alone_and_the_thread_serves_on() {
        let pool = HashingPool::new(1, Duration::from_secs(5)).unwrap();
        let panicked = pool.run(|_| panic!("a hash that panics")).await;
        assert!(matches!(panicked, Err(AuthError::Internal(_))));
        assert_eq!(pool.run(|_| 7).await.unwrap(), 7);
    }

    #[tokio::test]
    async fn a_thread_keeps_its_memory_between_jobs() {
        let pool = HashingPool::new(1, Duration::from_secs(5)).unwrap();
        pool.run(|memory| blocks(memory, 8).len()).await.unwrap();
        assert_eq!(pool.run(|memory| memory.len()).await.unwrap(), 8);
    }
}
