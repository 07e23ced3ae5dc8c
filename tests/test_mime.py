from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest

from syndicate.mime import build_email, fold_ascii, to_bytes
from syndicate.models import Message

DATE = datetime(2025, 11, 17, 8, 0, tzinfo=timezone(timedelta(hours=1)))
UNSUBSCRIBE = "https://allotment.example/unsubscribe?token=" + "t0k3n" * 30
MESSAGE = Message(
    to="ada@example.org",
    to_name="Ada Lovelace",
    subject="Allotment Notes — week 2025-W46",
    html="<!DOCTYPE html><html><body><p>Grüße, Ada</p>"
    + "<p>"
    + "long line " * 150
    + "</p></body></html>\n",
    text="Grüße, Ada\n\nSecond paragraph.\n",
    from_address="news@allotment.example",
    from_name="Allotment Notes",
    message_id="<2025-W46.42@allotment.example>",
    headers={
        "List-Unsubscribe": f"<{UNSUBSCRIBE}>, <mailto:unsubscribe@allotment.example>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "List-Id": "Allotment Notes <allotment-notes.allotment.example>",
    },
)


def roundtrip(message: Message) -> tuple[bytes, EmailMessage]:
    data = to_bytes(build_email(message, date=DATE))
    parsed = message_from_bytes(data, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return data, parsed


def test_headers_parse_back() -> None:
    _, parsed = roundtrip(MESSAGE)
    assert parsed["From"].addresses[0].display_name == "Allotment Notes"
    assert parsed["From"].addresses[0].addr_spec == "news@allotment.example"
    assert str(parsed["To"]) == "Ada Lovelace <ada@example.org>"
    assert str(parsed["Subject"]) == "Allotment Notes — week 2025-W46"
    assert parsed["Date"].datetime == DATE
    assert parsed["Message-ID"] == "<2025-W46.42@allotment.example>"
    assert parsed["MIME-Version"] == "1.0"
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert parsed["List-Id"] == "Allotment Notes <allotment-notes.allotment.example>"
    assert parsed.defects == []


def test_body_is_text_then_html() -> None:
    _, parsed = roundtrip(MESSAGE)
    assert parsed.get_content_type() == "multipart/alternative"
    text, html = parsed.iter_parts()
    assert text.get_content_type() == "text/plain"
    assert html.get_content_type() == "text/html"
    for part, original in ((text, MESSAGE.text), (html, MESSAGE.html)):
        assert part.get_content_charset() == "utf-8"
        assert part["Content-Transfer-Encoding"] in ("quoted-printable", "base64")
        assert part.get_content().replace("\r\n", "\n") == original
        assert "MIME-Version" not in part
    assert parsed.get_body(preferencelist=("html",)) is not None


def test_wire_format() -> None:
    data, _ = roundtrip(MESSAGE)
    assert data.isascii()  # headers encoded, bodies 7-bit transfer encoded
    lines = data.split(b"\r\n")
    assert b"\n" not in b"".join(lines) and b"\r" not in b"".join(lines)
    assert max(len(line) for line in lines) <= 998
    header_block = data.split(b"\r\n\r\n", 1)[0].decode()
    assert "=?utf-8?" in header_block  # the subject's dash is RFC 2047 encoded


def test_a_long_list_unsubscribe_stays_a_readable_url() -> None:
    data, parsed = roundtrip(MESSAGE)
    assert f"<{UNSUBSCRIBE}>".encode() in data  # not cut into encoded-words
    assert parsed["List-Unsubscribe"] == (
        f"<{UNSUBSCRIBE}>, <mailto:unsubscribe@allotment.example>"
    )


def test_non_ascii_names_are_encoded() -> None:
    message = replace(MESSAGE, from_name='Café "Grün", Köln', to_name="Zoë Ñandú")
    data, parsed = roundtrip(message)
    assert parsed["From"].addresses[0].display_name == 'Café "Grün", Köln'
    assert parsed["To"].addresses[0].display_name == "Zoë Ñandú"
    assert parsed["To"].addresses[0].addr_spec == "ada@example.org"
    assert data.isascii()


def test_an_international_domain_goes_as_idna() -> None:
    data, parsed = roundtrip(replace(MESSAGE, to="joerg@bücher.example"))
    assert parsed["To"].addresses[0].addr_spec == "joerg@xn--bcher-kva.example"
    assert data.isascii()
    with pytest.raises(ValueError, match=r"To: invalid address 'jörg@bücher\.example'"):
        build_email(replace(MESSAGE, to="jörg@bücher.example"), date=DATE)


def test_non_ascii_extra_header_is_encoded() -> None:
    data, parsed = roundtrip(replace(MESSAGE, headers={"List-Id": "Café <cafe.example>"}))
    assert parsed["List-Id"] == "Café <cafe.example>"
    assert data.isascii()


EVIL = "Hello\r\nBcc: victim@example.net\r\n\r\nbody"


@pytest.mark.parametrize(
    "changes",
    [
        {"subject": EVIL},
        {"from_name": EVIL},
        {"to_name": EVIL},
        {"headers": {"X-Campaign": EVIL}},
    ],
    ids=["subject", "from_name", "to_name", "extra_header"],
)
def test_header_injection_cannot_add_a_header(changes: dict[str, object]) -> None:
    data, parsed = roundtrip(replace(MESSAGE, **changes))  # type: ignore[arg-type]
    assert parsed["Bcc"] is None
    assert b"\r\nBcc:" not in data and b"\r\n\r\nbody" not in data
    assert parsed.get_content_type() == "multipart/alternative"
    assert parsed.defects == []
    if "subject" in changes:
        assert str(parsed["Subject"]) == "Hello Bcc: victim@example.net body"
    if "headers" in changes:
        assert parsed["X-Campaign"] == "Hello Bcc: victim@example.net body"


def test_an_address_with_a_line_break_is_refused() -> None:
    with pytest.raises(ValueError, match="To: invalid address"):
        build_email(replace(MESSAGE, to="ada@example.org\r\nBcc: victim@example.net"), date=DATE)


def test_message_id_choice() -> None:
    _, parsed = roundtrip(MESSAGE)
    assert parsed["Message-ID"] == "<2025-W46.42@allotment.example>"
    _, parsed = roundtrip(replace(MESSAGE, message_id="bare.7@allotment.example"))
    assert parsed["Message-ID"] == "<bare.7@allotment.example>"
    _, parsed = roundtrip(replace(MESSAGE, message_id=""))
    generated = parsed["Message-ID"]
    assert generated.startswith("<") and generated.endswith("@allotment.example>")


def test_bad_input_is_named() -> None:
    with pytest.raises(ValueError, match=r"Date: .* no time zone"):
        build_email(MESSAGE, date=datetime(2025, 11, 17, 8))
    with pytest.raises(ValueError, match="To: invalid address 'not an address'"):
        build_email(replace(MESSAGE, to="not an address"), date=DATE)
    with pytest.raises(ValueError, match="From: invalid address ''"):
        build_email(replace(MESSAGE, from_address=""), date=DATE)
    for bad in ("nodomain", "<a@b>\r\nBcc: x@y", "<a b@c>", "<<a@b>>"):
        with pytest.raises(ValueError, match=r"Message-ID: .* is not of the form <id@domain>"):
            build_email(replace(MESSAGE, message_id=bad), date=DATE)
    with pytest.raises(ValueError, match="header 'X Bad': not a valid header name"):
        build_email(replace(MESSAGE, headers={"X Bad": "v"}), date=DATE)
    with pytest.raises(ValueError, match="header 'Bcc:': not a valid header name"):
        build_email(replace(MESSAGE, headers={"Bcc:": "v"}), date=DATE)
    with pytest.raises(ValueError, match="header 'subject': set by build_email"):
        build_email(replace(MESSAGE, headers={"subject": "other"}), date=DATE)
    with pytest.raises(ValueError, match="longer than 998"):
        build_email(replace(MESSAGE, headers={"X-Long": "a" * 1000}), date=DATE)


def test_date_keeps_its_offset() -> None:
    _, parsed = roundtrip(MESSAGE)
    assert parsed["Date"] == "Mon, 17 Nov 2025 08:00:00 +0100"
    data = to_bytes(build_email(MESSAGE, date=datetime(2025, 11, 17, 7, tzinfo=UTC)))
    assert b"Date: Mon, 17 Nov 2025 07:00:00 +0000\r\n" in data


def test_fold_ascii() -> None:
    assert fold_ascii("X", "short value") == "short value"
    folded = fold_ascii("List-Unsubscribe", " ".join(["<https://a.example/" + "x" * 40 + ">"] * 3))
    lines = ("List-Unsubscribe: " + folded).split("\n")
    assert len(lines) == 3 and all(len(line) <= 78 for line in lines)
    assert all(line.startswith(" <https") for line in lines[1:])
    assert fold_ascii("X", "a" * 200).count("\n") == 0  # one long word stays whole
