"""A pause heals itself (issue 10): when the service retries a paused send on its own.

A send paused by failed requests in a row (kind ``failures``: 5xx, timeouts, a provider
down) is retried by `syndicate run` after ``delivery.retry_paused`` waits in turn (5 min,
15 min, 1 h by default), the last one again and again, while the retry still falls within
``digest.grace`` of the send's start. A send the provider refused (kind ``refused``: 401/403,
a bad login, an unusable answer) stays paused until the operator runs `digest send`; one
stopped by a shutdown (``stopped``) resumes at the service's next start.
"""

from __future__ import annotations

from datetime import datetime

from syndicate.config import Settings
from syndicate.digest.periods import parse_key, send_command
from syndicate.store import SendStatus

RETRIED = "failures"  # the pause kind the service retries (pipeline.send.PauseKind)
REFUSED = "refused"
STOPPED = "stopped"


def next_retry(settings: Settings, status: SendStatus) -> datetime | None:
    """When the service retries this paused send on its own; None: it does not."""
    if status.finished_at is not None or status.paused_reason is None:
        return None
    if status.pause_kind != RETRIED or status.paused_at is None:
        return None
    waits = settings.delivery.retry_paused
    if not waits:
        return None
    at = status.paused_at + waits[min(status.retries, len(waits) - 1)]
    return at if at <= status.started_at + settings.digest.grace else None


def retry_due(settings: Settings, status: SendStatus, now: datetime) -> bool:
    at = next_retry(settings, status)
    return at is not None and at <= now


def resume_command(key: str) -> str:
    """The command that sends (or resumes) edition ``key``."""
    try:
        period = parse_key(key)
    except ValueError:  # an announcement: its file is announced again
        return "syndicate announce FILE.md"
    return send_command(period)


def pause_problem(settings: Settings, week: str, status: SendStatus | None) -> str | None:
    """One line for /healthz and `syndicate status` about a paused send, with what comes
    next; None when the send is not paused."""
    if status is None or status.finished_at is not None or not status.paused_reason:
        return None
    text = f"the send of {week} is paused: {status.paused_reason}"
    by_hand = f"`{resume_command(week)}`"
    if status.pause_kind == REFUSED:
        return f"{text}; it stays paused until the operator fixes this and runs {by_hand}"
    at = next_retry(settings, status)
    if at is not None:
        return (
            f"{text}; `syndicate run` retries it at {at.isoformat()} (retry {status.retries + 1})"
        )
    if status.pause_kind == RETRIED:
        return f"{text}; no more retries on its own (past digest.grace): run {by_hand}"
    if status.pause_kind == STOPPED:
        return f"{text}; it resumes at the next start of `syndicate run`, or run {by_hand}"
    return text
