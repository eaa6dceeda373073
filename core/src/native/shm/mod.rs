//! POSIX shared-memory segments (work in progress).
