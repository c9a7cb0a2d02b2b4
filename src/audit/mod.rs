//! Comparing what is registered, what was meant and what was observed.
