"""Concrete backends built from settings. Only the faces (cli, scheduler, web) call this."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime

from syndicate.config import Settings
from syndicate.delivery import Sender


class BackendError(Exception):
    """A backend cannot be built from the settings (a missing secret, say)."""


def make_sender(settings: Settings, clock: Callable[[], datetime]) -> Sender:
    delivery = settings.delivery
    if delivery.backend == "sendgrid":
        from syndicate.delivery.sendgrid import SendGridSender

        key = os.environ.get(delivery.sendgrid.api_key_env, "")
        if not key:
            raise BackendError(
                f"delivery.sendgrid.api_key_env: ${delivery.sendgrid.api_key_env} is not set"
            )
        return SendGridSender(
            key,
            base_url=delivery.sendgrid.base_url,
            timeout=delivery.sendgrid.timeout,
            max_retries=delivery.sendgrid.max_retries,
            tracking=delivery.sendgrid.tracking,
        )
    if delivery.backend == "smtp":
        from syndicate.delivery.smtp import SmtpSender

        smtp = delivery.smtp
        return SmtpSender(
            smtp.host,
            smtp.port,
            security=smtp.security,
            username=smtp.username,
            password=os.environ.get(smtp.password_env, ""),
            timeout=smtp.timeout,
            clock=clock,
            return_path=settings.bounces.return_path,
        )
    from syndicate.delivery.outbox import OutboxSender

    return OutboxSender(settings.path(delivery.outbox_dir) / "sent", clock=clock)
