//! Size-class buffer pool over a byte region addressed by offsets (work in progress).
