//! The C API (placeholder until written).
