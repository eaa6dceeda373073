//! Sizes of a bus (fixed when it is created) and per-endpoint behaviour.

use core::time::Duration;

use crate::pool::PoolConfig;

/// Sizes of a bus, fixed at [`Bus::create`](super::Bus::create) and stored in the
/// segment so that [`Bus::open`](super::Bus::open) needs only the name.
///
/// Shared memory is committed lazily by the kernel: untouched slots cost address space,
/// not RAM.
#[derive(Clone, Debug)]
pub struct BusConfig {
    /// Size classes and slot counts of the buffer pool.
    pub pool: PoolConfig,
    /// Processes that may be attached at once (default 64).
    pub max_processes: u32,
    /// Named endpoints (queues and topics) at once (default 256).
    pub max_endpoints: u32,
    /// Producer → consumer lanes at once (default 1024).
    pub max_lanes: u32,
    /// Messages a lane holds before backpressure applies; a power of two (default 1024).
    pub lane_capacity: u32,
    /// Buffers (loans and received messages) one process may hold at once (default 4096).
    pub held_per_process: u32,
}

impl Default for BusConfig {
    fn default() -> Self {
        BusConfig {
            pool: PoolConfig::standard(),
            max_processes: 64,
            max_endpoints: 256,
            max_lanes: 1024,
            lane_capacity: 1024,
            held_per_process: 4096,
        }
    }
}

impl BusConfig {
    /// A small bus for tests: the small pool and short lanes.
    pub fn small() -> Self {
        BusConfig {
            pool: PoolConfig::small(),
            max_processes: 16,
            max_endpoints: 32,
            max_lanes: 64,
            lane_capacity: 64,
            held_per_process: 256,
        }
    }
}

/// What a sender does when the lane to a consumer is full. Chosen by the consumer when
/// it creates its endpoint, so every producer treats that consumer the same way.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[repr(u32)]
pub enum Backpressure {
    /// Wait until the consumer makes room (spin, then park; the sender wakes up and fails
    /// with [`BusError::EndpointGone`](super::BusError::EndpointGone) if the consumer
    /// dies).
    #[default]
    Block = 0,
    /// Fail at once with [`BusError::Full`](super::BusError::Full); the message is
    /// handed back inside the error.
    Error = 1,
    /// Discard the oldest unread message of the lane to make room.
    DropOldest = 2,
}

impl Backpressure {
    pub(crate) fn from_u32(v: u32) -> Backpressure {
        match v {
            1 => Backpressure::Error,
            2 => Backpressure::DropOldest,
            _ => Backpressure::Block,
        }
    }
}

/// How a blocking receive (or a blocked send) waits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitStrategy {
    /// Busy-poll forever: lowest latency, one core fully used while waiting.
    Spin,
    /// Poll this many times, then park on a futex until woken (default 2 000 polls,
    /// roughly 10–50 µs).
    SpinThenPark(u32),
    /// Park at once.
    Park,
}

impl Default for WaitStrategy {
    fn default() -> Self {
        WaitStrategy::SpinThenPark(2_000)
    }
}

impl WaitStrategy {
    pub(crate) fn spins(self) -> u32 {
        match self {
            WaitStrategy::Spin => u32::MAX,
            WaitStrategy::SpinThenPark(n) => n,
            WaitStrategy::Park => 0,
        }
    }
}

/// Options of a consumer endpoint.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EndpointConfig {
    /// What producers do when a lane to this endpoint is full.
    pub backpressure: Backpressure,
    /// How this endpoint's blocking receives wait.
    pub wait: WaitStrategy,
}

/// How often a parked wait wakes up to check that the peer it waits for is alive.
pub(crate) const LIVENESS_CHECK: Duration = Duration::from_millis(100);
