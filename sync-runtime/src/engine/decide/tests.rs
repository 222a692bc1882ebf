//! Tests of last write wins.
