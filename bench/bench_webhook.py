"""One SendGrid Event Webhook call of 10,000 events, signed, POSTed to the web front under
uvicorn on 127.0.0.1 (SQLite): the time to the answer, against recording the same events
one transaction each (the way before issue 13). Prints a Markdown table.

    .venv/bin/python bench/bench_webhook.py [--events 10000]
"""

from __future__ import annotations

import argparse
import base64
import os
import random
import socket
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import uvicorn
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from syndicate.config import Settings
from syndicate.delivery.outbox import OutboxSender
from syndicate.models import DeliveryState, SubscriberStatus
from syndicate.pipeline.events import decide, to_record
from syndicate.service.webserver import server_config
from syndicate.store import Store
from syndicate.web import create_app
from syndicate.web.webhooks import PATH, SIGNATURE_HEADER, TIMESTAMP_HEADER

WEEK = "weekly:2026-W48"  # the edition key, as the ledger and custom_args hold it
NOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
SUBSCRIBERS = 10_000
UNCERTAIN = 500


def prepare(url: str) -> list[int]:
    """A frozen week sent to 10,000 subscribers, 500 of its rows left uncertain."""
    with Store(url) as store:
        rows = [(f"r{n}@example.org", f"Reader {n}", frozenset()) for n in range(SUBSCRIBERS)]
        store.import_subscribers(rows, NOW, SubscriberStatus.ACTIVE)
        store.create_edition(WEEK, NOW, "subject", [])
        store.freeze_recipients(WEEK, NOW, frozenset())
        ids: list[int] = []
        while claimed := store.claim_batch(WEEK, "", 1000, NOW):
            outcomes = [
                (
                    d.id,
                    DeliveryState.UNCERTAIN if len(ids) + i < UNCERTAIN else DeliveryState.SENT,
                    "",
                )
                for i, (d, _) in enumerate(claimed)
            ]
            store.finish_batch(outcomes, NOW)
            ids += [d.id for d, _ in claimed]
        return ids


def events(count: int, ids: list[int]) -> list[dict[str, Any]]:
    rng = random.Random(13)
    kinds = ["processed"] * 40 + ["delivered"] * 40 + ["open"] * 12 + ["bounce"] * 5
    kinds += ["spamreport", "unsubscribe", "dropped"]
    out = []
    for n in range(count):
        row = rng.randrange(len(ids))
        item: dict[str, Any] = {
            "email": f"r{row}@example.org",
            "event": rng.choice(kinds),
            "sg_event_id": f"bench-{n}",
            "sg_message_id": f"msg-{row}.filter0001",
            "timestamp": int(NOW.timestamp()),
            "week": WEEK,
            "delivery_id": str(ids[row]),
        }
        if item["event"] == "dropped":
            item["reason"] = "Bounced Address"
        out.append(item)
    return out


def settings_for(root: Path, url: str, public_key: str) -> Settings:
    return Settings.model_validate(
        {
            "site": {"url": "https://bench.example/"},
            "storage": {"url": url},
            "webhooks": {"sendgrid_public_key": public_key},
            "delivery": {"outbox_dir": str(root / "outbox")},
            "root": root,
        }
    )


def post_once(root: Path, count: int) -> tuple[float, dict[str, int]]:
    url = f"sqlite:///{root / 'batch.db'}"
    ids = prepare(url)
    key = ec.generate_private_key(ec.SECP256R1())
    der = key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    settings = settings_for(root, url, base64.b64encode(der).decode())
    body = orjson.dumps(events(count, ids)) + b"\r\n"
    timestamp = str(int(time.time()))
    signature = base64.b64encode(key.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256())))
    with Store(url) as store:
        app = create_app(
            settings,
            store,
            sender_factory=lambda: OutboxSender(root / "outbox"),
            clock=lambda: datetime.now(UTC),
        )
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        server = uvicorn.Server(server_config(app, settings.web))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.01)
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: signature.decode(),
            TIMESTAMP_HEADER: timestamp,
        }
        try:
            with httpx.Client(timeout=120) as http:
                started = time.perf_counter()
                response = http.post(
                    f"http://127.0.0.1:{port}{PATH}", content=body, headers=headers
                )
                took = time.perf_counter() - started
        finally:
            server.should_exit = True
            thread.join(10)
        response.raise_for_status()
        report: dict[str, int] = response.json()
        return took, report


def one_by_one(root: Path, count: int) -> float:
    url = f"sqlite:///{root / 'single.db'}"
    ids = prepare(url)
    items = events(count, ids)
    with Store(url) as store:
        started = time.perf_counter()
        for item in items:
            store.record_event(to_record(item), decide(item), NOW)
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        took, report = post_once(root, args.events)
        single = one_by_one(root, args.events)
    print(f"One webhook call of {args.events:,} events (SQLite, uvicorn on 127.0.0.1)\n")
    print("| measurement | value | target |")
    print("| --- | ---: | --- |")
    print(f"| POST to answer, one transaction | {took:.2f} s | < 2 s |")
    print(f"| the same events, one transaction each | {single:.2f} s |  |")
    print(f"| events new / duplicates | {report['new']:,} / {report['duplicates']:,} |  |")
    print(f"| status changes / uncertain rows settled | {report['status_changes']:,} / "
          f"{report['settled']:,} |  |")  # fmt: skip
    print(f"\nCPUs: {os.cpu_count()}")


if __name__ == "__main__":
    main()
