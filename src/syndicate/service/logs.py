"""One log line per event: JSON when stderr is not a terminal, text for a person when it is.

``EventLog.info("gather.finished", new=3)`` writes
``{"ts": "…", "level": "info", "event": "gather.finished", "new": 3}``. Records of other
libraries (uvicorn, APScheduler) become events named after their logger, with their text in
``message``. Every line passes through the redactor: the values of the secret environment
variables and ``token=`` query values never reach the log.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import traceback
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, TextIO

from syndicate.log import EventLog, error_line, event_of, field_text

__all__ = ["EventLog", "configure_logging", "error_line", "event_of", "log_handler"]

REDACTED = "********"
_TOKEN = re.compile(r"(token=)[^&\s\"'<>]+")
MIN_SECRET = 4  # shorter values would blank out ordinary words


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        event, fields = event_of(record)
        ts = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        data: dict[str, Any] = {"ts": ts, "level": record.levelname.lower(), "event": event}
        data.update((k, v) for k, v in fields.items() if k not in data)
        if record.exc_info and record.exc_info[1] is not None:
            data.setdefault("error", error_line(record.exc_info[1]))
            data["traceback"] = "".join(traceback.format_exception(*record.exc_info))
        return json.dumps(data, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        event, fields = event_of(record)
        ts = datetime.fromtimestamp(record.created).astimezone().strftime("%H:%M:%S")
        parts = [ts, f"{record.levelname.lower():7s}", event]
        parts += [f"{key}={field_text(value)}" for key, value in fields.items()]
        line = " ".join(parts)
        if record.exc_info and record.exc_info[1] is not None:
            line += "\n" + "".join(traceback.format_exception(*record.exc_info)).rstrip()
        return line


class Redactor(logging.Formatter):
    """Wraps a formatter; secret values and token query values leave as ********."""

    def __init__(self, inner: logging.Formatter, secrets: Iterable[str]) -> None:
        super().__init__()
        self.inner = inner
        self.secrets = sorted({s for s in secrets if len(s) >= MIN_SECRET}, key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        line = self.inner.format(record)
        for secret in self.secrets:
            line = line.replace(secret, REDACTED)
            escaped = json.dumps(secret)[1:-1]
            if escaped != secret:
                line = line.replace(escaped, REDACTED)
        return _TOKEN.sub(r"\1" + REDACTED, line)


def log_handler(
    secrets: Iterable[str], stream: TextIO | None = None, json_lines: bool | None = None
) -> logging.Handler:
    """A handler writing redacted event lines to ``stream`` (stderr): JSON unless a tty."""
    stream = sys.stderr if stream is None else stream
    if json_lines is None:
        json_lines = not stream.isatty()
    handler = logging.StreamHandler(stream)
    inner = JsonFormatter() if json_lines else TextFormatter()
    handler.setFormatter(Redactor(inner, secrets))
    return handler


def configure_logging(handler: logging.Handler, level: int = logging.INFO) -> None:
    """Route every logger through ``handler`` alone."""
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # APScheduler announces every job start and end (the jobs log their own outcome), and
    # Alembic its plugins; Alembic's migration steps stay.
    for name in ("apscheduler", "alembic.runtime.plugins"):
        logging.getLogger(name).setLevel(logging.WARNING)
