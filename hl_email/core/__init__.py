"""Pure request logic: records, addresses, durations, tokens, policy, resolve (no I/O)."""
