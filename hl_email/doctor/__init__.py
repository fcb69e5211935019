"""`hl-email doctor --config FILE`: check a configuration against the real mail servers.

One line per check, ✓ or ✗ (with the fix), ⚠ for advice that does not fail the run:
SMTP connect, TLS (when configured), AUTH; IMAP connect, TLS, login, folder, IDLE and UIDPLUS;
a test message sent to the agent address and seen arriving over IMAP (round-trip time);
plus-addressing (when enabled); configuration warnings. Exit status 0 only when no check fails.

The test message carries `X-HL-Email-Doctor: 1` and `Auto-Submitted: auto-generated`, so the
gateway's classifier ignores it, and doctor marks it \\Seen (it deletes nothing).

Layout: report.py (results), smtp_checks.py, imap_checks.py, round_trip.py, config_checks.py,
run.py (the order of the checks, `diagnose`, `run_doctor`). The connections themselves are
opened by hl_email/connections.py, as for the watcher and the outbox.
"""

from .report import DOCTOR_HEADER, CheckResult, DoctorReport
from .run import diagnose, run_doctor

__all__ = ["DOCTOR_HEADER", "CheckResult", "DoctorReport", "diagnose", "run_doctor"]
