//! The one table style every command uses: condensed UTF-8 borders, cells wrapped to the
//! terminal's width; without a terminal (files, pipes, CI logs) rows keep their natural width,
//! so no word or path is broken across lines.

use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};

pub fn new_table() -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    t
}
