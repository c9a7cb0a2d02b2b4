//! Rendering results: the JSON contracts (serde types) and the tables people read
//! (comfy-table). Everything here is pure: results in, text out.

pub mod audit;
pub mod diff;
pub mod dump;
pub mod table;
