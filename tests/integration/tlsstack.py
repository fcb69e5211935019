"""A production-shaped private mail stack: Postfix + Dovecot with TLS from a throwaway CA.

* ``make_ca(dir)``: a CA and a server certificate for ``mail.hl-email.test`` and 127.0.0.1
  (not for "localhost": tests use that name to get a host-name mismatch), plus a second,
  unrelated CA (``wrong_ca_file``).
* Dovecot (the generated config of mailstack.py with TLS switched on): IMAP with STARTTLS on
  ``imap_port``, implicit TLS on ``imaps_port``, LMTP, and an auth socket Postfix uses for SASL.
  Optionally an ``oauth2`` passdb checking tokens against ``oauth_introspection_url``.
* Postfix (own ``config_directory`` and ``queue_directory``, loopback ports only): a plain
  relay port ``smtp_port`` (mynetworks, what the test "human" uses), submission with STARTTLS
  required on ``submission_port`` and implicit TLS on ``smtps_port``, SASL through Dovecot.
  Everything is delivered to Dovecot over LMTP, except addresses in ``lmtp_routes`` (address →
  "host:port"), which go to another LMTP server (the gateway's listener).

``TlsStack`` is a ``MailStack``, so MailClient and the fixtures' helpers work unchanged.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ipaddress
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from mailstack import (
    DEFAULT_PASSWORD,
    HOST,
    MailStack,
    SmtpFaults,
    _config_23,
    _config_24,
    _drain,
    _free_port,
    _port_open,
    _users,
    dovecot_binary,
    dovecot_failure,
    dovecot_version,
)

__all__ = [
    "CERT_HOST",
    "Certificates",
    "TlsStack",
    "make_ca",
    "postfix_binary",
    "start_tls_stack",
]

CERT_HOST = "mail.hl-email.test"


# --------------------------------------------------------------------------------------------
# Throwaway CA
# --------------------------------------------------------------------------------------------


@dataclass
class Certificates:
    ca_file: Path
    cert_file: Path
    key_file: Path
    wrong_ca_file: Path


def _ca(name: str):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def make_ca(directory: Path) -> Certificates:
    """Write ca.pem, server.pem, server.key and wrong-ca.pem into `directory`."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    directory.mkdir(parents=True, exist_ok=True)
    ca_key, ca_cert = _ca("hl-email test CA")
    _, wrong_cert = _ca("hl-email unrelated CA")
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, CERT_HOST)]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(CERT_HOST), x509.IPAddress(ipaddress.ip_address(HOST))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    paths = Certificates(
        ca_file=directory / "ca.pem",
        cert_file=directory / "server.pem",
        key_file=directory / "server.key",
        wrong_ca_file=directory / "wrong-ca.pem",
    )
    paths.ca_file.write_bytes(ca_cert.public_bytes(pem))
    paths.wrong_ca_file.write_bytes(wrong_cert.public_bytes(pem))
    paths.cert_file.write_bytes(cert.public_bytes(pem))
    paths.key_file.write_bytes(
        key.private_bytes(
            pem, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        )
    )
    for path in (paths.ca_file, paths.wrong_ca_file, paths.cert_file, paths.key_file):
        os.chmod(path, 0o644)  # read by Dovecot's and Postfix's unprivileged processes
    return paths


# --------------------------------------------------------------------------------------------
# Dovecot with TLS
# --------------------------------------------------------------------------------------------


def _dovecot_tls_config(
    base: str,
    version: tuple[int, int],
    *,
    certs: Certificates,
    imaps_port: int,
    auth_socket: Path,
    oauth_conf: Path | None,
    hibernate: bool = False,
) -> str:
    if version >= (2, 4):
        ssl = (
            "ssl = yes\n"
            f"ssl_server_cert_file = {certs.cert_file}\n"
            f"ssl_server_key_file = {certs.key_file}\n"
        )
        imaps = f"inet_listener imaps {{\n    listen = {HOST}\n    port = {imaps_port}\n  }}"
    else:
        ssl = f"ssl = yes\nssl_cert = <{certs.cert_file}\nssl_key = <{certs.key_file}\n"
        imaps = f"inet_listener imaps {{\n    address = {HOST}\n    port = {imaps_port}\n  }}"
    conf = base.replace("ssl = no\n", ssl).replace(
        "inet_listener imaps {\n    port = 0\n  }", imaps
    )
    mechanisms = "plain login" + (" xoauth2 oauthbearer" if oauth_conf else "")
    conf = conf.replace("auth_mechanisms = plain login", f"auth_mechanisms = {mechanisms}")
    # Refused logins are part of the tests: no growing per-IP penalty delays between them.
    conf += "auth_failure_delay = 0\nlogin_trusted_networks = 127.0.0.0/8\n"
    conf += (
        "service auth {\n"
        f"  unix_listener {auth_socket} {{\n    mode = 0666\n  }}\n"
        "  unix_listener auth-userdb {\n    mode = 0666\n  }\n"
        "}\n"
    )
    if hibernate:
        # A hibernated IDLE connection is resumed on new mail without IDLE's 500 ms notify delay
        # (docs/deploy.md). The imap processes run as the mail user: let them reach the sockets.
        conf += (
            "imap_hibernate_timeout = 1s\n"
            "service imap-hibernate {\n  unix_listener imap-hibernate {\n    mode = 0666\n  }\n}\n"
            "service imap {\n  unix_listener imap-master {\n    mode = 0666\n  }\n}\n"
        )
    if oauth_conf is not None:
        if version >= (2, 4):
            raise RuntimeError("the oauth2 passdb of this test stack is written for Dovecot 2.3")
        # Password logins keep using the static passdb; a token (XOAUTH2/OAUTHBEARER) fails
        # there and continues to the oauth2 passdb, which asks the introspection endpoint.
        conf = conf.replace(
            "passdb {\n  driver = static\n",
            "passdb {\n  driver = static\n  result_failure = continue\n"
            "  result_internalfail = continue\n",
        )
        conf += f"passdb {{\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n  args = {oauth_conf}\n}}\n"
    return conf


# --------------------------------------------------------------------------------------------
# Postfix
# --------------------------------------------------------------------------------------------


def postfix_binary() -> str | None:
    found = shutil.which("postfix")
    if found:
        return found
    return "/usr/sbin/postfix" if os.access("/usr/sbin/postfix", os.X_OK) else None


_MASTER_CF = """# generated by tests/integration/tlsstack.py
{host}:{smtp_port} inet n - n - - smtpd
{host}:{submission_port} inet n - n - - smtpd
  -o syslog_name=postfix/submission
  -o smtpd_tls_security_level=encrypt
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_tls_auth_only=yes
  -o smtpd_client_restrictions=permit_sasl_authenticated,reject
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
{host}:{smtps_port} inet n - n - - smtpd
  -o syslog_name=postfix/smtps
  -o smtpd_tls_wrappermode=yes
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_client_restrictions=permit_sasl_authenticated,reject
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


def _main_cf(
    root: Path,
    certs: Certificates,
    auth_socket: Path,
    dovecot_lmtp: int,
    lmtp_routes: dict[str, str],
) -> str:
    routes = ", ".join(f"{addr}=lmtp:inet:{target}" for addr, target in lmtp_routes.items())
    transport = f"transport_maps = inline:{{{routes}}}\n" if routes else ""
    return f"""# generated by tests/integration/tlsstack.py
compatibility_level = 3.6
config_directory = {root}/etc
queue_directory = {root}/queue
data_directory = {root}/data
mail_owner = postfix
setgid_group = postdrop
maillog_file_prefixes = {root}
maillog_file = {root}/postfix.log
myhostname = {CERT_HOST}
mydomain = hl-email.test
myorigin = $myhostname
inet_interfaces = {HOST}
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
mydestination =
relay_domains =
local_recipient_maps =
smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination
default_transport = lmtp:inet:{HOST}:{dovecot_lmtp}
relay_transport = lmtp:inet:{HOST}:{dovecot_lmtp}
{transport}lmtp_host_lookup = native
smtp_host_lookup = native
smtp_dns_support_level = disabled
lmtp_dns_support_level = disabled
disable_dns_lookups = yes
biff = no
smtputf8_enable = yes
smtpd_banner = $myhostname ESMTP hl-email test Postfix
smtpd_tls_cert_file = {certs.cert_file}
smtpd_tls_key_file = {certs.key_file}
smtpd_tls_security_level = may
smtpd_tls_loglevel = 1
smtpd_sasl_type = dovecot
smtpd_sasl_path = {auth_socket}
smtpd_sasl_auth_enable = no
smtpd_sasl_security_options = noanonymous
smtpd_sasl_tls_security_options = noanonymous
broken_sasl_auth_clients = no
smtpd_sender_restrictions =
delay_warning_time = 0
maximal_queue_lifetime = 1h
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
lmtp_connection_cache_on_demand = yes
"""


def _postfix_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = env.get("PATH", "") + ":/usr/sbin:/sbin"
    return env


def _start_postfix_sync(
    root: Path,
    certs: Certificates,
    auth_socket: Path,
    dovecot_lmtp: int,
    lmtp_routes: dict[str, str],
) -> tuple[subprocess.Popen, int, int, int]:
    binary = postfix_binary()
    if binary is None:
        raise RuntimeError("postfix is not installed (see .ci/run)")
    if os.geteuid() != 0:
        raise RuntimeError("the private Postfix needs root (as in CI)")
    etc = root / "etc"
    etc.mkdir()
    for sub in ("queue", "data"):
        (root / sub).mkdir()
    postfix_user = pwd.getpwnam("postfix")
    os.chown(root / "data", postfix_user.pw_uid, postfix_user.pw_gid)
    last_err = ""
    for _attempt in range(3):
        ports = [_free_port() for _ in range(3)]
        if len(set(ports)) < 3:
            continue
        smtp_port, submission_port, smtps_port = ports
        (etc / "main.cf").write_text(_main_cf(root, certs, auth_socket, dovecot_lmtp, lmtp_routes))
        (etc / "master.cf").write_text(
            _MASTER_CF.format(
                host=HOST,
                smtp_port=smtp_port,
                submission_port=submission_port,
                smtps_port=smtps_port,
            )
        )
        env = _postfix_env()
        check = subprocess.run(
            [binary, "-c", str(etc), "check"], capture_output=True, text=True, env=env
        )
        if check.returncode != 0:
            raise RuntimeError(f"postfix check failed:\n{check.stdout}{check.stderr}")
        proc = subprocess.Popen(
            [binary, "-c", str(etc), "start-fg"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=env,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                break
            if all(_port_open(p) for p in ports):
                return proc, smtp_port, submission_port, smtps_port
            time.sleep(0.02)
        _kill_postfix(root, proc)
        out = b""
        with contextlib.suppress(Exception):
            out = proc.stdout.read() if proc.stdout else b""
        log = ""
        with contextlib.suppress(OSError):
            log = (root / "postfix.log").read_text(errors="replace")
        last_err = f"exit={proc.returncode} output={out.decode(errors='replace')}\nlog:\n{log}"
        if "Address already in use" not in last_err:
            break
    raise RuntimeError(f"postfix did not start:\n{last_err}")


def _kill_postfix(root: Path | None, proc: subprocess.Popen | None) -> None:
    """Postfix's master puts itself in a session of its own (outside the Popen's group): kill
    its group by the pid file in our queue directory, then whatever is left of the launcher."""
    if root is not None:
        with contextlib.suppress(OSError, ValueError):
            pid = int((root / "queue" / "pid" / "master.pid").read_text().split()[0])
            # Only our master: its config directory is in this stack's root.
            environ = Path(f"/proc/{pid}/environ").read_bytes()
            if f"MAIL_CONFIG={root}/etc".encode() in environ:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(pid, signal.SIGKILL)
                _wait_gone(pid)
    _kill_group(proc)


def _wait_gone(pid: int, timeout: float = 10.0) -> None:
    """SIGKILL is delivered asynchronously and the master is not our child (no wait()): poll,
    bounded, until it is gone or a zombie (which holds no ports or files)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if "State:\tZ" in Path(f"/proc/{pid}/status").read_text():
                return
        except OSError:
            return
        time.sleep(0.01)


def _kill_group(proc: subprocess.Popen | None) -> None:
    if proc is None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(Exception):
        proc.wait(timeout=5)


# --------------------------------------------------------------------------------------------
# The stack
# --------------------------------------------------------------------------------------------


@dataclass
class TlsStack(MailStack):
    imaps_port: int = 0
    submission_port: int = 0
    smtps_port: int = 0
    certs: Certificates | None = None
    _postfix: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def ca_file(self) -> str:
        assert self.certs is not None
        return str(self.certs.ca_file)

    @property
    def wrong_ca_file(self) -> str:
        assert self.certs is not None
        return str(self.certs.wrong_ca_file)

    def postfix_log(self) -> str:
        if self.root is None:
            return ""
        try:
            return (self.root / "postfix.log").read_text(errors="replace")
        except OSError:
            return ""

    async def stop(self) -> None:
        if self._stopped:
            return
        await asyncio.to_thread(_kill_postfix, self.root, self._postfix)
        await super().stop()


def _start_dovecot_tls_sync(
    password: str, oauth_introspection_url: str | None, hibernate: bool = False
) -> tuple[Path, subprocess.Popen, int, int, int, tuple[int, int], Certificates, Path]:
    binary = dovecot_binary()
    if binary is None:
        raise RuntimeError("dovecot is not installed (apt-get install dovecot-imapd dovecot-lmtpd)")
    version = dovecot_version(binary)
    users = _users()
    last_err = ""
    for _attempt in range(3):
        root = Path(tempfile.mkdtemp(prefix="hlts-"))
        os.chmod(root, 0o755)
        for sub in ("run", "state", "mail"):
            (root / sub).mkdir()
        if users.privileged:
            pw = pwd.getpwnam(users.mail_user)
            os.chown(root / "mail", pw.pw_uid, pw.pw_gid)
        certs = make_ca(root / "certs")
        imap_port, lmtp_port, imaps_port = _free_port(), _free_port(), _free_port()
        if len({imap_port, lmtp_port, imaps_port}) < 3:
            continue
        oauth_conf = None
        if oauth_introspection_url:
            oauth_conf = root / "dovecot-oauth2.conf.ext"
            oauth_conf.write_text(
                f"introspection_url = {oauth_introspection_url}\n"
                "introspection_mode = post\n"
                "username_attribute = username\n"
                "active_attribute = active\n"
                "active_value = true\n"
                "tokeninfo_url =\n"
                "force_introspection = yes\n"
                "timeout_msecs = 5000\n"
            )
            os.chmod(oauth_conf, 0o644)
        auth_socket = root / "run" / "auth-postfix"
        make = _config_24 if version >= (2, 4) else _config_23
        conf = root / "dovecot.conf"
        conf.write_text(
            _dovecot_tls_config(
                make(root, imap_port, lmtp_port, password, users),
                version,
                certs=certs,
                imaps_port=imaps_port,
                auth_socket=auth_socket,
                oauth_conf=oauth_conf,
                hibernate=hibernate,
            )
        )
        proc = subprocess.Popen(
            [binary, "-F", "-c", str(conf)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                break
            if all(_port_open(p) for p in (imap_port, lmtp_port, imaps_port)):
                return root, proc, imap_port, lmtp_port, imaps_port, version, certs, auth_socket
            time.sleep(0.01)
        last_err = dovecot_failure(proc, root)
        if "Address already in use" not in last_err:
            break
    raise RuntimeError(f"dovecot did not start:\n{last_err}")


async def start_tls_stack(
    *,
    password: str = DEFAULT_PASSWORD,
    lmtp_routes: dict[str, str] | None = None,
    oauth_introspection_url: str | None = None,
    hibernate: bool = False,
) -> TlsStack:
    """Start Dovecot (TLS) and Postfix (TLS submission, SASL via Dovecot); `stop()` removes all."""
    (
        root,
        proc,
        imap_port,
        lmtp_port,
        imaps_port,
        version,
        certs,
        auth_socket,
    ) = await asyncio.to_thread(
        _start_dovecot_tls_sync, password, oauth_introspection_url, hibernate
    )
    stack = TlsStack(
        host=HOST,
        imap_port=imap_port,
        smtp_port=0,
        lmtp_port=lmtp_port,
        password=password,
        smtp_faults=SmtpFaults(),
        root=root,
        dovecot_version=version,
        _proc=proc,
        imaps_port=imaps_port,
        certs=certs,
    )
    try:
        if proc.stdout is not None:
            threading.Thread(target=_drain, args=(proc.stdout,), daemon=True).start()
        postfix, smtp_port, submission_port, smtps_port = await asyncio.to_thread(
            _start_postfix_sync, root, certs, auth_socket, lmtp_port, lmtp_routes or {}
        )
        stack._postfix = postfix
        if postfix.stdout is not None:
            threading.Thread(target=_drain, args=(postfix.stdout,), daemon=True).start()
        stack.smtp_port = smtp_port
        stack.submission_port = submission_port
        stack.smtps_port = smtps_port
    except BaseException:
        await stack.stop()
        raise
    return stack
