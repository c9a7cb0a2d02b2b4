//! Reading the intended policy (IPsec scripts, firewall rules, rpccfg, .reg) and linting it.
