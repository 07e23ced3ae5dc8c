"""Subscribers in and out: a backup restores exactly, imports never raise a status, other
providers' exports import with their statuses, and only the site's categories are taken."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from tests.test_cli_delivery import ARTICLE, make_site, run

FIXTURES = Path(__file__).parent / "fixtures" / "subscribers"


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    site = make_site(tmp_path / "site", monkeypatch)
    assert run(site, "gather")[0] == 0
    return site


def export(site: Path) -> list[dict[str, str]]:
    code, out, _ = run(site, "subscribers", "export")
    assert code == 0
    return list(csv.DictReader(io.StringIO(out)))


def test_export_restores_exactly_into_a_fresh_site(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run(site, "subscribers", "add", "ann@example.com", "--name", "Ann", "--categories", "events")
    run(site, "subscribers", "add", "bob@example.com", "--name", "Bob")
    (site / "mailchimp.csv").write_text(
        (FIXTURES / "mailchimp_unsubscribed.csv").read_text(encoding="utf-8")
    )
    assert run(site, "subscribers", "import", str(site / "mailchimp.csv"))[0] == 0
    before = export(site)
    assert list(before[0]) == [
        "email", "name", "categories", "cadence", "status", "created", "confirmed"
    ]  # fmt: skip
    assert before[0]["categories"] == "Events"  # stored in the site's spelling
    assert [r["status"] for r in before] == ["active", "active", "unsubscribed"]
    backup = tmp_path / "backup.csv"
    backup.write_text(run(site, "subscribers", "export")[1], encoding="utf-8")

    fresh = make_site(tmp_path / "fresh", monkeypatch)
    (fresh / "articles" / "dam.txt").write_text(ARTICLE, encoding="utf-8")
    assert run(fresh, "gather")[0] == 0
    code, out, err = run(fresh, "subscribers", "import", str(backup))
    assert code == 0, err
    assert "import: 3 added, 0 unchanged, 0 rejected" in out
    assert export(fresh) == before


def test_import_never_raises_a_status_unless_asked(site: Path) -> None:
    for address in ("ann@example.com", "bob@example.com", "cy@example.com"):
        run(site, "subscribers", "add", address)
    people = site / "suppress.csv"
    people.write_text(
        "email,status\nann@example.com,unsubscribed\nbob@example.com,bounced\n", encoding="utf-8"
    )
    code, out, _ = run(site, "subscribers", "import", str(people))
    assert code == 0 and "2 suppressed, 1 unchanged" not in out and "2 suppressed" in out
    again = site / "again.csv"
    again.write_text("email\nann@example.com\nbob@example.com\ncy@example.com\n")
    code, out, _ = run(site, "subscribers", "import", str(again))
    assert "import: 0 added, 3 unchanged" in out
    assert [r["status"] for r in export(site)] == ["unsubscribed", "bounced", "active"]
    code, out, _ = run(site, "subscribers", "import", "--reactivate", str(again))
    assert code == 0 and "2 reactivated" in out
    assert [r["status"] for r in export(site)] == ["active", "active", "active"]


def test_a_mailchimp_export_imports_with_its_statuses(site: Path) -> None:
    for name in ("mailchimp_subscribed.csv", "mailchimp_unsubscribed.csv", "mailchimp_cleaned.csv"):
        code, _, err = run(site, "subscribers", "import", str(FIXTURES / name))
        assert code == 0, err
    rows = {r["email"]: r for r in export(site)}
    assert {k: r["status"] for k, r in rows.items()} == {
        "ann@example.net": "active",
        "bob@example.net": "active",
        "cy@example.net": "unsubscribed",
        "dee@example.net": "bounced",
    }
    assert rows["ann@example.net"]["name"] == "Ann Lee"
    assert rows["ann@example.net"]["created"] == "2025-03-01T10:00:00+00:00"


@pytest.mark.parametrize("given", ["news", "Newz", "Nonexistent"])
def test_unknown_categories_are_refused_listing_the_known_ones(site: Path, given: str) -> None:
    code, _, err = run(site, "subscribers", "add", "ann@example.com", "--categories", given)
    assert code == 2 and repr(given) in err
    assert "Events" in err and "General" in err and "Observing Reports" in err
    assert export(site) == []


def test_import_reports_unknown_categories_per_row(site: Path) -> None:
    people = site / "people.csv"
    people.write_text("email,categories\na@example.com,observing reports\nb@example.com,Newz\n")
    code, out, err = run(site, "subscribers", "import", str(people))
    assert code == 1 and "import: 1 added" in out
    assert err.count("\n") == 1 and "line 3" in err and "'Newz'" in err
    assert export(site)[0]["categories"] == "Observing Reports"


def test_list_as_json(site: Path) -> None:
    run(site, "subscribers", "add", "ann@example.com", "--name", "Ann", "--categories", "Events")
    code, out, _ = run(site, "subscribers", "list", "--json")
    assert code == 0
    assert json.loads(out) == [
        {
            "id": 1,
            "email": "ann@example.com",
            "name": "Ann",
            "status": "active",
            "categories": ["Events"],
            "cadence": "weekly",
            "created": "2026-11-23T08:00:00+00:00",
            "confirmed": "2026-11-23T08:00:00+00:00",
        }
    ]
