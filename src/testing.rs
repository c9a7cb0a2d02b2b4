//! Checks that the tests of several modules share (compiled for tests only).

use serde::Serialize;
use std::fmt::Display;
use strum::IntoEnumIterator;

/// Every variant of `T` is shown (`Display`, `Into<&str>`) by the name it has in JSON, so a
/// table, a message and a report never name the same thing two ways.
pub fn assert_shown_as_json_names<T>()
where
    T: IntoEnumIterator + Serialize + Display + Into<&'static str> + Copy + std::fmt::Debug,
{
    let mut seen = 0;
    for v in T::iter() {
        let name: &'static str = v.into();
        assert_eq!(serde_json::to_value(v).unwrap(), name, "{v:?}");
        assert_eq!(v.to_string(), name, "{v:?}");
        seen += 1;
    }
    assert!(seen > 0, "an enum with no variant");
}
