//! Endpoint-mapper client: connect, bind, page through `ept_lookup` under deadlines.
