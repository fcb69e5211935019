"""hl-email: a self-hosted gateway that lets AI agents reach humans by email."""

__version__ = "0.1.0"
