//! The JSON report contract, tables and baseline diffs.
