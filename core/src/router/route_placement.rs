//! [`RoutePlacement`]: the placement one route is made with, as the language bindings'
//! routers take it.

use alloc::string::String;
use alloc::sync::Arc;

use crate::membership::PlacementFollower;
use crate::placement::Placement;

/// The placement of one route: a member's layout snapshot, or the owner already looked
/// up in a ring or partition table the application maintains (the bindings look it up
/// while they hold that object, then route without it).
#[derive(Debug, Clone)]
pub enum RoutePlacement {
    /// A live member's layout (shared, so taking it costs no copy).
    Follower(Arc<PlacementFollower>),
    /// The owner the application's ring or table named (`None`: it was empty).
    Owner(Option<String>),
}

impl Placement for RoutePlacement {
    fn algorithm(&self) -> &'static str {
        match self {
            RoutePlacement::Follower(f) => f.algorithm(),
            RoutePlacement::Owner(_) => "looked-up",
        }
    }

    fn node_count(&self) -> usize {
        match self {
            RoutePlacement::Follower(f) => f.node_count(),
            RoutePlacement::Owner(o) => usize::from(o.is_some()),
        }
    }

    fn key_position(&self, key: &[u8]) -> u64 {
        match self {
            RoutePlacement::Follower(f) => f.key_position(key),
            RoutePlacement::Owner(_) => 0,
        }
    }

    fn locate_hash(&self, position: u64) -> Option<&str> {
        match self {
            RoutePlacement::Follower(f) => f.locate_hash(position),
            RoutePlacement::Owner(o) => o.as_deref(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_looked_up_owner_answers_every_key() {
        let p = RoutePlacement::Owner(Some("a".into()));
        assert_eq!(p.locate(b"x"), Some("a"));
        assert_eq!(p.locate(b"y"), Some("a"));
        assert_eq!(p.node_count(), 1);
        let empty = RoutePlacement::Owner(None);
        assert_eq!(empty.locate(b"x"), None);
        assert_eq!(empty.node_count(), 0);
    }
}
