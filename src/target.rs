//! Target specifications from the command line: addresses, host names, CIDR blocks, @files.
