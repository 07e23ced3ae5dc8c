"""Structured logging for every module: an event name and fields, not a sentence.

``log = EventLog(__name__)``; ``log.info("sendgrid.split", recipients=12, error=why)``. The
service's handler (``syndicate.service.logs``) writes each as one JSON line (or text on a
terminal), redacted; without it they are ordinary ``logging`` records whose message is the
event name.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any


class Event:
    """A record's message: the event name and its fields. Read as text (by pytest's caplog, or
    any plain handler) it is ``name key=value …``; the service's formatters take it apart."""

    __slots__ = ("fields", "name")

    def __init__(self, name: str, fields: Mapping[str, Any]) -> None:
        self.name = name
        self.fields = dict(fields)

    def __str__(self) -> str:
        return " ".join([self.name, *(f"{k}={field_text(v)}" for k, v in self.fields.items())])


def field_text(value: Any) -> str:
    text = str(value)
    return json.dumps(text, ensure_ascii=False) if not text or " " in text or "=" in text else text


class EventLog:
    """A logger whose messages are event names with fields."""

    def __init__(self, name: str = "syndicate") -> None:
        self.logger = logging.getLogger(name)

    def _log(self, level: int, event: str, fields: dict[str, Any], exc: bool = False) -> None:
        self.logger.log(level, Event(event, fields), exc_info=exc)

    def debug(self, event: str, **fields: Any) -> None:
        self._log(logging.DEBUG, event, fields)

    def info(self, event: str, **fields: Any) -> None:
        self._log(logging.INFO, event, fields)

    def warning(self, event: str, **fields: Any) -> None:
        self._log(logging.WARNING, event, fields)

    def error(self, event: str, **fields: Any) -> None:
        self._log(logging.ERROR, event, fields)

    def exception(self, event: str, **fields: Any) -> None:
        """An error with the exception being handled (its traceback in the JSON line)."""
        self._log(logging.ERROR, event, fields, exc=True)


def event_of(record: logging.LogRecord) -> tuple[str, dict[str, Any]]:
    if isinstance(record.msg, Event):
        return record.msg.name, dict(record.msg.fields)
    return record.name, {"message": record.getMessage()}


def error_line(exc: BaseException) -> str:
    """An exception as one line for a log field: its type, then its text with whitespace folded."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
