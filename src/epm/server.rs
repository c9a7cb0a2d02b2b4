//! Fixture endpoint mapper for the demo, the lab, tests and benches.
