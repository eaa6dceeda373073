//! Churn: every `--churn-secs`, `kill -9` a random running agent; restart it a couple of
//! seconds after the observer has marked it failed (or after [`DOWN_LIMIT`] if it never
//! does), so both the failure and the rejoin show on the page. One agent is down at a
//! time, and a kill waits until the observer sees every running agent alive.

use std::time::{Duration, Instant};

use shoal_core::membership::Status;
use shoal_core::native::net::Node;

use super::{snapshot, Shared};

/// How long a killed agent stays down after the observer marked it failed.
const SHOW_FAILED: Duration = Duration::from_secs(2);
/// Longest time an agent stays down.
const DOWN_LIMIT: Duration = Duration::from_secs(20);
/// Shortest time between a restart and the next kill.
const SETTLE: Duration = Duration::from_secs(3);

enum State {
    /// Next kill not before `at`.
    Waiting { at: Instant },
    /// `id` was killed at `killed`; the observer saw it failed at `failed`.
    Down {
        id: String,
        killed: Instant,
        failed: Option<Instant>,
    },
}

/// The churn schedule.
pub struct Churn {
    period: Duration,
    state: State,
    rng: u64,
}

impl Churn {
    /// Kills every `period` (zero: never).
    pub fn new(period: Duration) -> Churn {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
            ^ u64::from(std::process::id()).rotate_left(32);
        Churn {
            period,
            state: State::Waiting {
                at: Instant::now() + period,
            },
            rng: seed | 1,
        }
    }

    /// Kills or restarts an agent if it is time to. Call it every 100 ms or so from the
    /// thread that owns the agents.
    pub fn step(&mut self, agents: &mut super::cluster::Agents, observer: &Node, shared: &Shared) {
        if self.period.is_zero() {
            return;
        }
        let now = Instant::now();
        match &mut self.state {
            State::Waiting { at } => {
                if now < *at {
                    return;
                }
                let up = agents.up_ids();
                let status = observer.status();
                let all_alive = up.iter().all(|id| {
                    status
                        .members
                        .iter()
                        .any(|m| m.id() == id && m.status() == Status::Alive)
                });
                if up.is_empty() || !all_alive {
                    return;
                }
                let victim = up[(self.next_random() % up.len() as u64) as usize].clone();
                if agents.kill(&victim) {
                    eprintln!("shoal demo: kill -9 {victim}");
                    super::lock(&shared.up).insert(victim.clone(), false);
                    shared.hub.publish(
                        "action",
                        &snapshot::action(shared.now_ms(), "kill", &victim),
                    );
                    self.state = State::Down {
                        id: victim,
                        killed: now,
                        failed: None,
                    };
                }
            }
            State::Down { id, killed, failed } => {
                if failed.is_none() {
                    let status = observer.status();
                    let seen = status.members.iter().find(|m| m.id() == id.as_str());
                    if seen.is_none_or(|m| matches!(m.status(), Status::Dead | Status::Left)) {
                        *failed = Some(now);
                    }
                }
                let due = match failed {
                    Some(t) => now >= *t + SHOW_FAILED,
                    None => now >= *killed + DOWN_LIMIT,
                };
                if !due {
                    return;
                }
                if let Err(e) = agents.restart(id) {
                    // Stay down and try again a little later.
                    eprintln!("shoal demo: restart of {id} failed: {e}");
                    *failed = Some(now);
                    return;
                }
                eprintln!("shoal demo: restarted {id}");
                super::lock(&shared.up).insert(id.clone(), true);
                shared
                    .hub
                    .publish("action", &snapshot::action(shared.now_ms(), "restart", id));
                let killed = *killed;
                let settle = SETTLE.max(self.period.min(Duration::from_secs(5)));
                self.state = State::Waiting {
                    at: (killed + self.period).max(now + settle),
                };
            }
        }
    }

    /// xorshift64*.
    fn next_random(&mut self) -> u64 {
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        self.rng.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}
