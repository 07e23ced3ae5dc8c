"""The personalizations built from one template per batch (sendgrid_items) say what the
per-recipient dicts say, whatever the values hold."""

from __future__ import annotations

import orjson
import pytest

from syndicate.delivery.base import Batch, Recipient, RecipientRows, all_clean
from syndicate.delivery.sendgrid_request import RequestBody

HEADERS = {
    "List-Unsubscribe": "<https://x.test/u/1>",
    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
}
AWKWARD = [
    'say "hi"',
    "back\\slash",
    "100% %s %%name%% %(x)s",
    "Zoë, ünïcode ✓",
    "line\u2028separator",
    "tab\there",
    "",
    '","',
    "<b>&amp;</b> 'quoted'",
]


def recipients(names: list[str], first: list[str]) -> list[Recipient]:
    return [
        Recipient(
            i,
            f"reader{i}@example.com",
            name,
            {"name": name or "there", "first_name": value, "url": f"https://x.test/u/{i}"},
            HEADERS,
            f"2026-W47.{i}@x.test" if i % 2 else f"<2026-W47.{i}@x.test>",
        )
        for i, (name, value) in enumerate(zip(names, first, strict=True), start=1)
    ]


def request(people: list[Recipient]) -> RequestBody:
    batch = Batch(
        subject="Week 47",
        html="<p>Hi %%first_name%%</p><a href='%%url%%'>x</a>",
        text="Hi %%first_name%% %%url%%",
        from_address="news@x.test",
        from_name="The Weekly",
        recipients=people,
    )
    return RequestBody(batch)


def as_dicts(body: RequestBody, people: list[Recipient]) -> list[object]:
    _, texts = body.texts(people, RecipientRows.of(people), range(len(people)))
    return [orjson.loads(text) for text in texts]


def rows(people: list[Recipient]) -> RecipientRows:
    made = RecipientRows.of(people)
    assert made is not None
    return made


def reference(body: RequestBody, people: list[Recipient], clean: bool) -> list[object]:
    escaped = body.escaped_keys(people)
    return [body.personalization(r, escaped, clean) for r in people]


@pytest.mark.parametrize("value", AWKWARD)
def test_one_template_says_what_each_dict_says(value: str) -> None:
    people = recipients(["Ann", "", "Bob; Jr, III", "Cy"], [value, "Ann", value, "x"])
    body = request(people)
    assert all_clean(rows(people))
    expected = reference(body, people, True)
    body.personalization = None  # type: ignore[assignment,method-assign]  # the template's way only
    assert as_dicts(body, people) == expected


def test_html_escaped_values_get_their_own_placeholder() -> None:
    people = recipients(["Ann", "Bo"], ["<Ann & co>", "Bo"])
    body = request(people)
    [first, second] = as_dicts(body, people)
    assert first["substitutions"]["%%html:first_name%%"] == "&lt;Ann &amp; co&gt;"  # type: ignore[index]
    assert second["substitutions"]["%%html:first_name%%"] == "Bo"  # type: ignore[index]


def test_a_batch_of_several_shapes_is_built_recipient_by_recipient() -> None:
    people = recipients(["Ann", "Bo"], ["Ann", "Bo"])
    people[1] = people[1]._replace(substitutions={"name": "Bo"})
    body = request(people)
    assert RecipientRows.of(people) is None
    assert as_dicts(body, people) == reference(body, people, False)
    assert "first_name" not in str(as_dicts(body, people)[1])


def test_the_body_holds_the_texts_and_the_variant() -> None:
    people = recipients(["Ann"], ["Ann"])
    body = request(people)
    escaped, texts = body.texts(people, rows(people), [0])
    data = orjson.loads(body.body(texts, escaped))
    assert data["personalizations"] == reference(body, people, True)
    assert data["from"] == {"email": "news@x.test", "name": "The Weekly"}
    assert [part["type"] for part in data["content"]] == ["text/plain", "text/html"]


def test_headers_checked_for_the_send_leaves_only_the_names_to_check() -> None:
    [person] = recipients(["Ann"], ["Ann"])
    odd_header = person._replace(headers={"List-Id": "two  spaces"})
    assert not all_clean(rows([odd_header]))
    assert all_clean(rows([odd_header]), headers_checked=True)
    assert not all_clean(rows([person._replace(name="Ann\r\nBcc: x")]), headers_checked=True)


def test_rows_are_the_recipients_they_were_made_of() -> None:
    people = recipients(["Ann", "", "Cy"], ["Ann", "there", "Cy"])
    made = rows(people)
    assert made.rows[0] == (1, "reader1@example.com", "Ann", "Ann", "Ann", "https://x.test/u/1",
                            *HEADERS.values(), "2026-W47.1@x.test")  # fmt: skip
    assert list(made) == people and made == people and made[1] == people[1]
    assert made[1:] == people[1:] and isinstance(made[1:], RecipientRows)
    assert made.take([2, 0]) == [people[2], people[0]]
    assert made.column(1) == [p.email for p in people]
    assert RecipientRows.of(made) is made
    assert RecipientRows.of([]) == []


def test_a_batch_with_duplicates_sends_the_first_of_each() -> None:
    people = recipients(["Ann", "Bo", "Cy"], ["Ann", "Bo", "Cy"])
    body = request(people)
    _, texts = body.texts(people, rows(people), [0, 2])
    assert [orjson.loads(t) for t in texts] == reference(body, [people[0], people[2]], True)
