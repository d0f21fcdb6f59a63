//! The lwIP layer (placeholder until written).
