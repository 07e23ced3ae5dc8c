"""A real IMAP server for the tests: Debian's Dovecot (``dovecot-imapd``), started on
127.0.0.1 (or another address of this machine) from a config written into a temp dir,
with one user (a passwd-file) and a Maildir there. Installed by ``make test``
(``mailtools``); tests skip without it."""

from __future__ import annotations

import grp
import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DOVECOT = shutil.which("dovecot") or (
    "/usr/sbin/dovecot" if os.path.exists("/usr/sbin/dovecot") else None
)
USER = "bounces"
PASSWORD = "a-test-password-0123"

_CONFIG = """\
protocols = imap
listen = {host}
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {me}
default_internal_group = {group}
default_login_user = {me}
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = {host}
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
first_valid_uid = 0
"""


@dataclass(frozen=True)
class ImapServer:
    host: str
    port: int
    user: str
    password: str

    @property
    def url(self) -> str:
        return f"imap://{self.user}@{self.host}:{self.port}/INBOX"

    def drop(self, message: bytes) -> None:
        """Put a message into the INBOX, as a mail server delivering it would."""
        with imaplib.IMAP4(self.host, self.port, timeout=30) as imap:
            imap.login(self.user, self.password)
            imap.append("INBOX", "", None, message)

    def count(self) -> int:
        with imaplib.IMAP4(self.host, self.port, timeout=30) as imap:
            imap.login(self.user, self.password)
            status, data = imap.select("INBOX")
            assert status == "OK"
            return int(data[0] or 0)


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@contextmanager
def dovecot(host: str = "127.0.0.1") -> Iterator[ImapServer]:
    """A Dovecot of its own, run as a non-root user: the current one, or ``nobody`` when
    the tests run as root (Dovecot's login processes refuse root). Its folder is a fresh
    temp dir that user owns, removed afterwards."""
    assert DOVECOT is not None
    root = Path(tempfile.mkdtemp(prefix="syndicate-dovecot-"))
    try:
        with _running(root, host) as server:
            yield server
    finally:
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def _running(root: Path, host: str) -> Iterator[ImapServer]:
    assert DOVECOT is not None
    port = _free_port(host)
    account = pwd.getpwnam("nobody") if os.getuid() == 0 else pwd.getpwuid(os.getuid())
    for sub in ("run", "state", "mail"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    (root / "users").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n", encoding="utf-8")
    config = root / "dovecot.conf"
    config.write_text(
        _CONFIG.format(
            root=root,
            me=account.pw_name,
            group=grp.getgrgid(account.pw_gid).gr_name,
            uid=account.pw_uid,
            gid=account.pw_gid,
            port=port,
            host=host,
        ),
        encoding="utf-8",
    )
    root.chmod(0o755)
    for path in [root, *root.rglob("*")]:
        os.chown(path, account.pw_uid, account.pw_gid) if os.getuid() == 0 else None
    as_user: dict[str, Any] = (
        {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
        if os.getuid() == 0
        else {}
    )
    errors = root / "start.err"
    with errors.open("wb") as err:  # a file, not a pipe: the daemon keeps its fds open
        started = subprocess.run(
            [DOVECOT, "-c", str(config)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
            timeout=60,
            check=False,
            **as_user,
        )
    assert started.returncode == 0, errors.read_text() + _log(root)
    try:
        _wait(host, port, root)
        yield ImapServer(host, port, USER, PASSWORD)
    finally:
        subprocess.run(
            [DOVECOT, "-c", str(config), "stop"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=60,
            check=False,
            **as_user,
        )


def _wait(host: str, port: int, root: Path) -> None:
    deadline = time.monotonic() + 30  # a hang guard, not a speed check
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"dovecot did not listen on {port}:\n{_log(root)}")


def _log(root: Path) -> str:
    log = root / "dovecot.log"
    return log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""


def non_loopback_address() -> str | None:
    """An address of this machine that is not loopback (no packet is sent), or None."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.254", 9))  # TEST-NET-1: only picks the outgoing interface
        except OSError:
            return None
        address = str(probe.getsockname()[0])
    return None if address.startswith("127.") or address == "0.0.0.0" else address
