"""The bounce mailbox over IMAP: read every message of one folder, delete those recorded.

``imaps://`` is TLS from the start; ``imap://`` upgrades with STARTTLS, and only a server
on a loopback address may go without it (a test server, a local Dovecot). The password
comes from the environment variable the settings name, never from the URL.
"""

from __future__ import annotations

import contextlib
import imaplib
import ipaddress
import re
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

_UID = re.compile(rb"UID (\d+)")


class MailboxError(Exception):
    """The mailbox cannot be read; the message says why in one line."""


@dataclass(frozen=True, slots=True)
class MailboxAddress:
    secure: bool  # imaps://
    host: str
    port: int
    user: str
    folder: str

    @classmethod
    def parse(cls, url: str) -> MailboxAddress:
        parts = urlsplit(url)
        if parts.scheme not in ("imap", "imaps") or not parts.hostname or not parts.username:
            raise MailboxError(f"bounces.imap_url: not imap(s)://user@host/FOLDER: {url!r}")
        secure = parts.scheme == "imaps"
        return cls(
            secure=secure,
            host=parts.hostname,
            port=parts.port or (993 if secure else 143),
            user=unquote(parts.username),
            folder=unquote(parts.path.lstrip("/")) or "INBOX",
        )


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class ImapMailbox:
    """One session: ``fetch`` the folder's messages, ``delete`` some, ``close``."""

    def __init__(
        self,
        address: MailboxAddress,
        password: str,
        *,
        timeout: float = 30.0,
        context: ssl.SSLContext | None = None,
    ) -> None:
        self.address = address
        self._imap = _connect(address, timeout, context or ssl.create_default_context())
        try:
            self._imap.login(address.user, password)
            status, _ = self._imap.select(_quoted(address.folder))
        except imaplib.IMAP4.error as exc:
            self.close()
            raise MailboxError(f"bounce mailbox {address.host}: {_reason(exc)}") from None
        if status != "OK":
            self.close()
            raise MailboxError(f"bounce mailbox {address.host}: no folder {address.folder!r}")

    def fetch(self, limit: int = 500) -> list[tuple[int, bytes]]:
        """(uid, raw message) of up to ``limit`` messages in the folder, oldest first."""
        status, data = self._imap.uid("SEARCH", "ALL")
        if status != "OK" or not data or not data[0]:
            return []
        messages = []
        for uid in data[0].split()[:limit]:
            status, parts = self._imap.uid("FETCH", uid, "(BODY.PEEK[])")
            for part in parts if status == "OK" else ():
                if isinstance(part, tuple) and len(part) == 2:
                    messages.append((int(uid), bytes(part[1])))
        return messages

    def delete(self, uids: Iterable[int]) -> None:
        wanted = ",".join(str(uid) for uid in uids)
        if wanted:
            self._imap.uid("STORE", wanted, "+FLAGS.SILENT", r"(\Deleted)")
            self._imap.expunge()

    def close(self) -> None:
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            self._imap.logout()


def _connect(address: MailboxAddress, timeout: float, context: ssl.SSLContext) -> imaplib.IMAP4:
    where = f"bounce mailbox {address.host}:{address.port}"
    try:
        if address.secure:
            return imaplib.IMAP4_SSL(
                address.host, address.port, ssl_context=context, timeout=timeout
            )
        imap = imaplib.IMAP4(address.host, address.port, timeout=timeout)
    except (OSError, imaplib.IMAP4.error) as exc:
        raise MailboxError(f"{where}: {_reason(exc)}") from None
    if "STARTTLS" in imap.capabilities:
        try:
            imap.starttls(context)
        except (OSError, imaplib.IMAP4.error) as exc:
            raise MailboxError(f"{where}: STARTTLS failed: {_reason(exc)}") from None
    elif not is_loopback(address.host):
        imap.shutdown()
        raise MailboxError(
            f"{where}: the server offers no STARTTLS; use imaps:// (imap:// without TLS "
            "is only for a server on a loopback address)"
        )
    return imap


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _reason(exc: BaseException) -> str:
    text = exc.args[0] if exc.args else exc
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return " ".join(str(text).split()) or type(exc).__name__
