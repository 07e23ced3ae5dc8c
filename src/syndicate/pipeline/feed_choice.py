"""Which categories' feeds a build writes again.

A category's feeds show its newest ``feeds.items`` visible articles; they can change only
when an article changed (or came due) that is in them now (a changed one was before:
``.feeds.stamps``, never served, lists each category's articles as its feeds on disk show
them) or is in that category now. So, after a build that read the articles changed past
its mark, only those categories are built again: an article moved from A to B rebuilds
both, a removed one its category. Every category is built when nothing is known of what
changed (every page compared, pages off), when the record is missing, unreadable or of
other feed options or feed code (its fingerprint), and for a category whose files or
record entry are missing. The site's feeds are built every time (three files).

A kill between the feeds and the record must not leave a file the record does not know
of: before the feeds are written the record is written holding both the old and the new
articles of each category built (or removed, when every category is built), after them
exactly the new ones.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from syndicate.feeds import FeedOptions, feed_code, feed_paths
from syndicate.store.build_reads import PageRow

RECORD = ".feeds.stamps"

Members = dict[str, list[str]]  # category -> the guids its feeds show


@dataclass(frozen=True, slots=True)
class FeedRecord:
    """``site``: path -> digest of the site's own files (its feeds, index.html, the
    stylesheet) as the build that wrote the record made them; only in the record written
    after them (None before: nothing on disk is vouched for)."""

    fingerprint: str
    members: Members
    site: dict[str, str] | None = None

    def encode(self) -> bytes:
        body: dict[str, object] = {
            "fingerprint": self.fingerprint,
            "feeds": dict(sorted(self.members.items())),
        }
        if self.site is not None:
            body["site"] = dict(sorted(self.site.items()))
        return json.dumps(body, separators=(",", ":")).encode("utf-8") + b"\n"


def fingerprint(options: FeedOptions, per_category: bool) -> str:
    """What a category's feeds are made of besides its articles: the options, and the code
    (syndicate's and feedgen's versions: an upgrade builds every feed once)."""
    made_of = (options, per_category, feed_code())
    return hashlib.sha256(repr(made_of).encode()).hexdigest()


def read_record(output: Path) -> FeedRecord | None:
    try:
        body = json.loads((output / RECORD).read_bytes())
        feeds = body["feeds"]
        members = {str(name): [str(g) for g in guids] for name, guids in feeds.items()}
        site = body.get("site")
        digests = None if site is None else {str(p): str(d) for p, d in site.items()}
        return FeedRecord(str(body["fingerprint"]), members, digests)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def to_build(
    output: Path,
    listed: Mapping[str, str],
    record: FeedRecord | None,
    changed: Sequence[PageRow] | None,
    formats: Iterable[str],
) -> set[str]:
    """The categories (of ``listed``: name → slug) whose feeds this build writes again."""
    if changed is None or record is None:
        return set(listed)
    guids = {row.guid for row in changed}
    wanted = {row.category for row in changed}
    wanted |= {name for name, shown in record.members.items() if not guids.isdisjoint(shown)}
    names = list(formats)
    for name, slug in listed.items():
        paths = feed_paths(slug, names).values()
        if name not in record.members or not all((output / p).is_file() for p in paths):
            wanted.add(name)
    return wanted & listed.keys()


def records(
    old: FeedRecord | None,
    built: Mapping[str, list[str]],
    listed: Iterable[str],
    fp: str,
    site: dict[str, str],
) -> tuple[FeedRecord | None, FeedRecord]:
    """The record to write before the feeds (None: remove it) and the one after. The one
    before vouches for the site's files only when this build leaves them as they are."""
    usable = old is not None and old.fingerprint == fp
    kept = dict(old.members) if old is not None and usable else {}
    after = {name: built.get(name, kept.get(name, [])) for name in listed}
    if old is None or not usable:
        return None, FeedRecord(fp, after, site)
    both = {name: list(dict.fromkeys([*kept.get(name, []), *after[name]])) for name in after}
    return FeedRecord(fp, both, old.site if old.site == site else None), FeedRecord(fp, after, site)
