"""Signing webhook calls as SendGrid does, for the webhook tests.

SendGrid's signed Event Webhook: an ECDSA P-256 key pair; the settings get the public key
as base64 DER (SubjectPublicKeyInfo), and each POST carries the base64 DER signature (SHA-256)
of ``timestamp + body``, the body a compact JSON array followed by CRLF.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from syndicate.web.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER


@dataclass(frozen=True)
class Signer:
    private_key: ec.EllipticCurvePrivateKey

    @classmethod
    def generate(cls) -> Signer:
        return cls(ec.generate_private_key(ec.SECP256R1()))

    @property
    def public_key(self) -> str:
        """As SendGrid shows it: base64 of the DER SubjectPublicKeyInfo."""
        der = self.private_key.public_key().public_bytes(
            Encoding.DER, PublicFormat.SubjectPublicKeyInfo
        )
        return base64.b64encode(der).decode()

    def sign(self, timestamp: str, body: bytes) -> str:
        signature = self.private_key.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
        return base64.b64encode(signature).decode()

    def headers(self, body: bytes, at: datetime) -> dict[str, str]:
        timestamp = str(int(at.timestamp()))
        return {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: self.sign(timestamp, body),
            TIMESTAMP_HEADER: timestamp,
        }


def body_of(events: Sequence[Mapping[str, Any]]) -> bytes:
    """A webhook body as SendGrid sends it."""
    return orjson.dumps(list(events)) + b"\r\n"


def event(kind: str, email: str, event_id: str, at: datetime, **fields: Any) -> dict[str, Any]:
    """One event; custom_args (week, delivery_id) go in ``fields``, top-level like SendGrid's."""
    return {
        "email": email,
        "event": kind,
        "sg_event_id": event_id,
        "sg_message_id": f"msg-{event_id}.filter0001",
        "smtp-id": f"<{event_id}@ismtpd.example>",
        "timestamp": int(at.timestamp()),
        **fields,
    }
