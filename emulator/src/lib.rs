//! mcubench
