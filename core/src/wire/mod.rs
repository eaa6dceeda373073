//! Secure datagram framing for gossip (work in progress).
