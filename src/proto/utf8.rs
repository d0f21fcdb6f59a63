//! Incremental UTF-8 validation that fails fast across chunks and fragments.
