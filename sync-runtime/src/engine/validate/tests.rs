//! Tests of request validation.
