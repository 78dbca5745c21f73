//! Delivery of what exporters encode.
