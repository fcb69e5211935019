"""Request services: create, read, answer and cancel requests; escalation, timers, waiters."""
