"""The Store's methods for the delivery ledger: freezing an edition's recipients, claiming
batches and writing their outcomes (mixed into Store; the queries are in store.ledger and
store.recipients)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import cached_property

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from syndicate.models import Delivery, DeliveryState, Edition, SubscriberStatus
from syndicate.store import editions as _editions
from syndicate.store import ledger as _ledger
from syndicate.store import recipients as _recipients
from syndicate.store.ledger import ClaimAnswer, ClaimedRow
from syndicate.store.recipients import Frozen
from syndicate.store.records import SendStatus


class SendingQueries:
    _engine: Engine
    _writer: Engine

    def _edition(self, key: str) -> Edition | None:
        with self._engine.connect() as conn:
            return _editions.get_edition(conn, key)

    def create_edition(
        self, key: str, created_at: datetime, subject: str, guids: Sequence[str]
    ) -> Edition:
        """Store a weekly edition whose send has not started (for ``freeze_recipients``); if
        the key is stored already, return it as stored."""
        week = key.partition(":")[2] or key
        edition = Edition(key, "weekly", week, created_at, (), subject)
        try:
            with self._writer.begin() as conn:
                existing = _editions.get_edition(conn, key)
                if existing is not None:
                    return existing
                _editions.insert_edition(conn, edition, guids, replace_unsent=False)
        except IntegrityError:
            if self._edition(key) is None:  # another writer stored it first, or not
                raise
        stored = self._edition(key)
        assert stored is not None
        return stored

    def freeze_recipients(
        self, week: str, now: datetime, edition_categories: frozenset[str], everyone: bool = False
    ) -> Frozen:
        """Write a stored edition's recipients once (none if it was written before): rows
        made by variant. ``everyone``: every active reader, whatever their preferences
        (announcements)."""
        try:
            with self._writer.begin() as conn:
                return _recipients.freeze_recipients(conn, week, now, edition_categories, everyone)
        except IntegrityError:
            # Another writer froze it between our check and our insert.
            if not self.send_started(week):
                raise
            return {}

    def plan_recipients(
        self, edition_categories: frozenset[str], cadence: str
    ) -> tuple[dict[str, int], list[int]]:
        """(rows per variant, ids of active readers left out) a freeze now would give."""
        with self._engine.connect() as conn:
            return _recipients.plan_recipients(conn, edition_categories, cadence)

    def freeze_edition(self, edition: Edition, now: datetime) -> tuple[Edition, Frozen]:
        """Store the edition as it is now with its recipients, in one transaction, unless its
        send had started: (the edition as stored, ledger rows created by variant)."""
        try:
            with self._writer.begin() as conn:
                created = _recipients.freeze_edition(conn, edition, now)
        except IntegrityError:
            # Another writer froze it between our check and our insert.
            if not self.send_started(edition.key):
                raise
            created = {}
        frozen = self._edition(edition.key)
        assert frozen is not None
        return frozen, created

    def send_started(self, week: str) -> bool:
        with self._engine.connect() as conn:
            return _recipients.send_started(conn, week)

    def pending_variants(self, week: str) -> list[tuple[str, int]]:
        """(variant, pending rows), by variant."""
        with self._engine.connect() as conn:
            return _ledger.pending_variants(conn, week)

    def frozen_variants(self, week: str) -> list[str]:
        """The variants the week's freeze wrote rows of, by variant: no row is counted."""
        with self._engine.connect() as conn:
            return _ledger.frozen_variants(conn, week)

    def claim_batch(
        self, week: str, variant: str, limit: int, now: datetime, owner: str | None = None
    ) -> list[tuple[Delivery, SubscriberStatus | None]]:
        """Up to ``limit`` pending rows of the variant, now submitting (attempts + 1) under
        ``owner`` (a registered sender's id; None: nobody's, so uncertain on recovery).

        Rows of subscribers no longer active become skipped in the same transaction and are
        not returned; [] means no pending row of the variant is left.
        """
        with self._writer.begin() as conn:
            return _ledger.claim_batch(conn, week, variant, limit, now, owner)

    @cached_property
    def _claimed_up_to(self) -> dict[tuple[str, str], int]:
        """(week, variant) -> the last id this store's ``claim_rows`` claimed: where its next
        claim looks first (see ledger.claim_rows)."""
        return {}

    def claim_rows(
        self,
        week: str,
        variant: str,
        limit: int,
        now: datetime,
        owner: str | None,
        settle: Mapping[tuple[DeliveryState, str], Sequence[int]] | None = None,
    ) -> list[ClaimedRow]:
        """``claim_batch`` as the send uses it: (id, subscriber id, email, name, token id)
        tuples, by id, the subscriber's token id None when the subscriber is gone.

        ``settle``: the outcomes of the batch before (as ``finish_groups`` takes them),
        written first in the same transaction: one commit a batch, not two."""
        hints = self._claimed_up_to
        rows: list[ClaimAnswer] = []
        with self._writer.begin() as conn:
            if settle:
                _ledger.finish_groups(conn, settle, now)
                self._put_back(_pending_ids(settle))
            after = hints.get((week, variant))
            if after is not None:
                rows = _ledger.claim_rows(conn, week, variant, limit, now, owner, after)
        # None after the last claim (or no claim yet): the first pending row is looked for
        # outside the write transaction. On SQLite that walk of the variant's rows (~0.1 s a
        # million) held the writer lock, and every other worker's claim waited for it.
        while not rows:
            with self._engine.connect() as conn:
                first = _ledger.first_pending(conn, week, variant)
            if first is None:
                break
            with self._writer.begin() as conn:  # another sender may have claimed it since
                rows = _ledger.claim_rows(conn, week, variant, limit, now, owner, first - 1)
        if rows:
            hints[week, variant] = rows[-1][0]
        return [(i, sid, email, name, token) for i, sid, email, name, _, _, _, token in rows]

    def finish_groups(
        self, groups: Mapping[tuple[DeliveryState, str], Sequence[int]], now: datetime
    ) -> int:
        """``finish_batch`` grouped: (state, error) -> the delivery ids that came to it."""
        with self._writer.begin() as conn:
            changed = _ledger.finish_groups(conn, groups, now)
        self._put_back(_pending_ids(groups))
        return changed

    def finish_batch(
        self, outcomes: Sequence[tuple[int, DeliveryState, str]], now: datetime
    ) -> int:
        """(delivery id, state, error) for submitting rows; PENDING puts a row back.
        Returns the rows changed (rows not submitting are left alone)."""
        with self._writer.begin() as conn:
            changed = _ledger.finish_batch(conn, outcomes, now)
        self._put_back([i for i, state, _ in outcomes if state == DeliveryState.PENDING])
        return changed

    def _put_back(self, ids: Sequence[int]) -> None:
        """Rows put back are claimed again first: the next claims look from just before the
        lowest of them (not from the variant's first row: on SQLite a claim walks the rows
        by id, the sent ones too)."""
        if not ids:
            return
        low = min(ids)
        hints = self._claimed_up_to
        for key, last in hints.items():
            if last >= low:
                hints[key] = low - 1

    def delivery_counts(self, week: str) -> dict[str, int]:
        with self._engine.connect() as conn:
            return _ledger.delivery_counts(conn, week)

    def deliveries(self, week: str, state: DeliveryState | None = None) -> list[Delivery]:
        with self._engine.connect() as conn:
            return _ledger.list_deliveries(conn, week, state)

    def mark_send_finished(self, week: str, now: datetime) -> bool:
        with self._writer.begin() as conn:
            return _ledger.mark_send_finished(conn, week, now)

    def send_status(self, week: str) -> SendStatus | None:
        with self._engine.connect() as conn:
            return _ledger.send_status(conn, week)


def _pending_ids(groups: Mapping[tuple[DeliveryState, str], Sequence[int]]) -> list[int]:
    """The ids that outcome groups put back to pending."""
    return [i for (state, _), ids in groups.items() if state == DeliveryState.PENDING for i in ids]
