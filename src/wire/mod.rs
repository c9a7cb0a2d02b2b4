//! The DCE/RPC connection-oriented wire format and the endpoint mapper's stubs. Pure: bytes in,
//! typed values out, and back. No I/O.
