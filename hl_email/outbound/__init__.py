"""Outbound mail: templates, rendering, composition, the outbox and SMTP."""
