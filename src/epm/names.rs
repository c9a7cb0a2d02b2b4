//! Well-known RPC interfaces by UUID (the table arrives with the names branch).
pub fn label(_uuid: &uuid::Uuid) -> Option<String> {
    None
}
