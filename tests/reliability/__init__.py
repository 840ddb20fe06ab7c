"""Reliability and security tests: fuzzed parsers, faults, timeouts, secrets, TLS, soak."""
