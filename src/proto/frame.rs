//! Frame header codec and masking (RFC 6455 §5.2, §5.3).
