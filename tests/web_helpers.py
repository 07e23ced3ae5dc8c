"""A small site for the web front's tests: settings in tmp_path, a real store with articles in
three categories, published feeds, one sent and one unsent edition, an outbox sender."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import uvicorn

from syndicate.config import Settings, WebSettings
from syndicate.delivery.outbox import OutboxSender
from syndicate.models import Article, SubscriberStatus
from syndicate.pipeline import build_all_feeds
from syndicate.service.webserver import server_config
from syndicate.store import Store
from syndicate.web import WebOptions, create_app

SECRET = "w8g-cOD2A4SRFbqqoTpOfrX4UgCPg0KQEiqEI7FXL54"
NOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)  # a Wednesday of 2026-W48
SENT_WEEK = "2026-W47"  # as the archive's URLs name them
UNSENT_WEEK = "2026-W48"
SENT_KEY = f"weekly:{SENT_WEEK}"  # as the store and the ledger key them
UNSENT_KEY = f"weekly:{UNSENT_WEEK}"
CATEGORIES = ("Equipment", "Events", "Sky Guide")
_URL = re.compile(r"https?://\S+")


class Clock:
    """A settable clock: the app and the outbox read it, the test moves it."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def make_settings(root: Path, database_url: str, web_url: str = "http://testserver/") -> Settings:
    return Settings.model_validate(
        {
            "site": {
                "title": "Millbrook <Test> Society",
                "url": "https://millbrook.example/",
                "description": "Sky notes for the tests",
                "postal_address": "1 Observatory Lane\nMillbrook",
            },
            "storage": {"url": database_url},
            "feeds": {"output_dir": str(root / "public")},
            "digest": {"timezone": "UTC"},
            "email": {"from_address": "digest@millbrook.example", "from_name": "Millbrook"},
            "delivery": {"outbox_dir": str(root / "outbox")},
            "web": {"base_url": web_url},
            "root": root,
        }
    )


def article(n: int, category: str, published: datetime, **fields: Any) -> Article:
    base: dict[str, Any] = {
        "guid": f"https://millbrook.example/note-{n}",
        "slug": f"note-{n}",
        "title": f"Note {n} about {category}",
        "link": f"https://millbrook.example/note-{n}",
        "published": published,
        "category": category,
        "summary": f"Summary of note {n}.",
        "content": f"<p>Body of note {n}.</p>",
    }
    return Article(**(base | fields))


def seed(store: Store, settings: Settings) -> None:
    """Six articles, the feeds, a sent edition (W47, frozen) and an unsent one (W48)."""
    w47 = datetime(2026, 11, 17, 12, 0, tzinfo=UTC)
    articles = [article(n, CATEGORIES[n % 3], w47 - timedelta(days=n)) for n in range(1, 5)]
    articles.append(
        article(
            5,
            "Events",
            w47 - timedelta(hours=3),
            title="<script>alert(1)</script> Star party & %%name%%",
            summary="Bring <b>snacks</b>.",
        )
    )
    articles.append(article(6, "Sky Guide", NOW - timedelta(days=1)))
    articles.append(article(7, "Events", NOW - timedelta(hours=20)))
    store.upsert_articles(articles, NOW - timedelta(days=8))
    build_all_feeds(settings, store, NOW)
    sent = [a.guid for a in articles[:5]]
    store.create_edition(SENT_KEY, w47, "Millbrook — week 47", sent)
    store.freeze_recipients(SENT_KEY, w47, frozenset(CATEGORIES))
    store.create_edition(UNSENT_KEY, NOW, "Millbrook — week 48", [a.guid for a in articles[5:]])


def add_reader(
    store: Store,
    email: str = "ann@example.org",
    name: str = "Ann Reader",
    categories: tuple[str, ...] = (),
) -> int:
    return store.add_subscriber(email, name, categories, SubscriberStatus.ACTIVE, NOW).id


@dataclass
class Site:
    root: Path
    settings: Settings
    store: Store
    clock: Clock = field(default_factory=Clock)

    @property
    def outbox(self) -> Path:
        return self.root / "mail"

    def sender(self) -> OutboxSender:
        return OutboxSender(self.outbox, clock=self.clock)

    def app(self, **options: Any) -> Any:
        return create_app(
            self.settings,
            self.store,
            sender_factory=self.sender,
            clock=self.clock,
            options=replace(WebOptions.from_settings(self.settings), **options),
        )

    def mails(self) -> list[EmailMessage]:
        files = sorted(self.outbox.glob("*.eml")) if self.outbox.exists() else []
        return [read_mail(p) for p in files]


def open_site(root: Path, database_url: str, web_url: str = "http://testserver/") -> Iterator[Site]:
    settings = make_settings(root, database_url, web_url)
    with Store(settings.database_url) as store:
        seed(store, settings)
        yield Site(root, settings, store)


def read_mail(path: Path) -> EmailMessage:
    message = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def text_part(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def links(text: str, path: str) -> list[str]:
    """The URLs in ``text`` whose path is ``path`` (e.g. "/confirm")."""
    return [url for url in _URL.findall(text) if f"/{path.strip('/')}?" in url]


def path_of(url: str) -> str:
    """ "http://host/confirm?token=x" → "/confirm?token=x"."""
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def free_socket() -> socket.socket:
    """A listening-ready socket on 127.0.0.1 with a free port the kernel chose.

    proto=IPPROTO_TCP matters: asyncio turns Nagle off (TCP_NODELAY) only for sockets that
    say they are TCP, and with Nagle on every keep-alive answer with a body waited ~40 ms
    for the client's delayed ACK.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextmanager
def serve(app: Any, sock: socket.socket, web: WebSettings | None = None) -> Iterator[str]:
    """Run ``app`` under a real uvicorn on ``sock`` in a thread; yields its base URL.

    With the configuration ``syndicate run`` gives it (``server_config``): no uvicorn access
    log (it prints query strings, and ours hold tokens), uvicorn leaves the logging
    configuration alone, forwarded headers only from ``web.trusted_proxies``, the header
    timeout.
    """
    server = uvicorn.Server(server_config(app, web or WebSettings()))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    host, port = sock.getsockname()[:2]
    try:
        yield f"http://{host}:{port}/"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def wait_for_mails(folder: Path, count: int = 1, timeout: float = 10) -> list[Path]:
    """The .eml files in ``folder`` once there are ``count``: a real server sends the
    confirmation after its answer."""
    deadline = time.monotonic() + timeout
    while True:
        found = sorted(folder.glob("*.eml")) if folder.exists() else []
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.02)
