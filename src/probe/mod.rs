//! TCP reachability probes from chosen source addresses.
