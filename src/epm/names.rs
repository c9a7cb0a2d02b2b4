//! Well-known RPC interfaces by UUID.
