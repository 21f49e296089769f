//! Finding the `claude` binary.
