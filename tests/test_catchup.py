"""What digest is due: the pure decision, driven by an injected clock across a missed Monday
and the March and October DST changes in Europe/Berlin and America/New_York.

The send scheduled in a week covers the week before it: ``sent_in("2026-W14")`` is the
period (2026-W13) whose send is scheduled in 2026-W14. Other cadences: test_catchup_cadences.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syndicate.config import CadenceTime, WeeklyTime, parse_weekly_time
from syndicate.digest.periods import Period, parse_period
from syndicate.digest.select import iso_week
from syndicate.service.catchup import (
    DueDigest,
    SendState,
    describe_nothing_due,
    digests_due,
    last_scheduled,
    next_scheduled,
    periods_to_check,
)
from syndicate.service.catchup import scheduled_time as period_scheduled_time

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
MONDAY_8 = CadenceTime("weekly", 0, 8, 0)
SUNDAY_0230 = CadenceTime("weekly", 6, 2, 30)  # in the spring gap and the autumn fold in Berlin
SUNDAY_0130 = CadenceTime("weekly", 6, 1, 30)  # in the autumn fold in New York
GRACE = timedelta(days=2)
NOTHING: dict[str, SendState] = {}


def sent_in(week: str) -> Period:
    """The weekly period whose send is scheduled in ``week``: the week before it."""
    return parse_period("weekly", week).shift(-1)


def key(week: str) -> str:
    """The edition key of the period whose send is scheduled in ``week``."""
    return sent_in(week).key


def scheduled_time(week: str, when: CadenceTime, tz: ZoneInfo) -> datetime:
    """The scheduled moment in ``week`` (of the send covering the week before)."""
    return period_scheduled_time(sent_in(week), when, tz)


def shift_week(week: str, weeks: int) -> str:
    return parse_period("weekly", week).shift(weeks).name


def weeks_to_check(now: datetime, when: CadenceTime, tz: ZoneInfo) -> list[str]:
    return [p.shift(1).name for p in periods_to_check(now, when, tz)]


def local(tz: ZoneInfo, *parts: int, fold: int = 0) -> datetime:
    return datetime(*parts, tzinfo=tz, fold=fold)  # type: ignore[misc]


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


# --- the scheduled moment of each week ---------------------------------------------------


@pytest.mark.parametrize(
    ("week", "when", "tz", "expected"),
    [
        # Monday 08:00 right after each change: the UTC moment moves by the hour.
        ("2026-W13", MONDAY_8, BERLIN, utc(2026, 3, 23, 7, 0)),
        ("2026-W14", MONDAY_8, BERLIN, utc(2026, 3, 30, 6, 0)),
        ("2026-W44", MONDAY_8, BERLIN, utc(2026, 10, 26, 7, 0)),
        ("2026-W11", MONDAY_8, NEW_YORK, utc(2026, 3, 9, 12, 0)),
        ("2026-W45", MONDAY_8, NEW_YORK, utc(2026, 11, 2, 13, 0)),
        # 02:30 does not exist on 2026-03-29 in Berlin: it is taken just after the gap, 03:30.
        ("2026-W13", SUNDAY_0230, BERLIN, utc(2026, 3, 29, 1, 30)),
        # 02:30 exists twice on 2026-10-25 in Berlin: the first (summer time) counts.
        ("2026-W43", SUNDAY_0230, BERLIN, utc(2026, 10, 25, 0, 30)),
        # New York: 02:30 on 2026-03-08 is in the gap; 01:30 on 2026-11-01 is in the fold.
        ("2026-W10", SUNDAY_0230, NEW_YORK, utc(2026, 3, 8, 7, 30)),
        ("2026-W44", SUNDAY_0130, NEW_YORK, utc(2026, 11, 1, 5, 30)),
    ],
)
def test_each_week_has_one_scheduled_moment(
    week: str, when: CadenceTime, tz: ZoneInfo, expected: datetime
) -> None:
    assert scheduled_time(week, when, tz) == expected


def test_the_gap_time_falls_just_after_the_gap_on_the_local_clock() -> None:
    moment = scheduled_time("2026-W13", SUNDAY_0230, BERLIN).astimezone(BERLIN)
    assert (moment.hour, moment.minute, moment.utcoffset()) == (3, 30, timedelta(hours=2))


@pytest.mark.parametrize("tz", [BERLIN, NEW_YORK])
@pytest.mark.parametrize(
    "when", [MONDAY_8, SUNDAY_0230, SUNDAY_0130, CadenceTime("weekly", 6, 23, 59)]
)
def test_three_years_of_weeks_one_moment_each_a_week_apart(tz: ZoneInfo, when: CadenceTime) -> None:
    week = "2025-W01"
    previous = scheduled_time(week, when, tz)
    for _ in range(3 * 53):
        week = shift_week(week, 1)
        moment = scheduled_time(week, when, tz)
        assert iso_week(moment, tz) == week
        assert timedelta(days=7, hours=-1) <= moment - previous <= timedelta(days=7, hours=1)
        assert moment.astimezone(tz).weekday() == when.day
        previous = moment


def test_shift_week_crosses_years_with_53_weeks() -> None:
    assert shift_week("2026-W53", 1) == "2027-W01"
    assert shift_week("2027-W01", -1) == "2026-W53"
    assert shift_week("2025-W52", 1) == "2026-W01"
    assert shift_week("2026-W10", 0) == "2026-W10"


def test_last_and_next_scheduled_around_the_moment() -> None:
    moment = scheduled_time("2026-W14", MONDAY_8, BERLIN)
    assert last_scheduled(moment, MONDAY_8, BERLIN, 2) == [sent_in("2026-W14"), sent_in("2026-W13")]
    before = moment - timedelta(microseconds=1)
    assert last_scheduled(before, MONDAY_8, BERLIN, 1) == [sent_in("2026-W13")]
    assert next_scheduled(before, MONDAY_8, BERLIN) == moment
    assert next_scheduled(moment, MONDAY_8, BERLIN) == scheduled_time("2026-W15", MONDAY_8, BERLIN)


# --- what is due -------------------------------------------------------------------------


def due_weeks(due: list[DueDigest]) -> list[tuple[str, str]]:
    """(the week each send is scheduled in, its action)."""
    return [(item.period.shift(1).name, item.action) for item in due]


def test_on_time_the_week_just_scheduled_is_due() -> None:
    now = local(BERLIN, 2026, 3, 30, 8, 0)
    (item,) = digests_due(now, MONDAY_8, BERLIN, GRACE, NOTHING)
    assert (item.week, item.action, item.late) == ("weekly:2026-W13", "send", timedelta(0))


def test_a_missed_monday_goes_out_at_start_up_within_grace_and_not_after() -> None:
    # Down from Saturday to Tuesday, across the March change in Berlin.
    tuesday = local(BERLIN, 2026, 3, 31, 9, 15)
    (item,) = digests_due(tuesday, MONDAY_8, BERLIN, GRACE, NOTHING)
    assert item.week == key("2026-W14") and item.action == "send"
    assert item.late == timedelta(days=1, hours=1, minutes=15)
    edge = scheduled_time("2026-W14", MONDAY_8, BERLIN) + GRACE
    assert due_weeks(digests_due(edge, MONDAY_8, BERLIN, GRACE, NOTHING)) == [("2026-W14", "send")]
    late = edge + timedelta(seconds=1)
    assert digests_due(late, MONDAY_8, BERLIN, GRACE, NOTHING) == []
    assert "more than digest.grace" in describe_nothing_due(late, MONDAY_8, BERLIN, GRACE, NOTHING)


def test_zero_grace_sends_only_at_the_moment_itself() -> None:
    moment = scheduled_time("2026-W45", MONDAY_8, NEW_YORK)
    assert due_weeks(digests_due(moment, MONDAY_8, NEW_YORK, timedelta(0), NOTHING))
    later = moment + timedelta(seconds=1)
    assert digests_due(later, MONDAY_8, NEW_YORK, timedelta(0), NOTHING) == []


def test_before_the_moment_nothing_of_this_week_is_due() -> None:
    sunday = local(NEW_YORK, 2026, 11, 1, 23, 59)
    assert digests_due(sunday, MONDAY_8, NEW_YORK, GRACE, NOTHING) == []


@pytest.mark.parametrize("state", [SendState.STARTED, SendState.FINISHED])
def test_a_week_whose_send_started_or_finished_is_never_sent_again(state: SendState) -> None:
    now = local(BERLIN, 2026, 3, 30, 9, 0)
    due = digests_due(now, MONDAY_8, BERLIN, GRACE, {key("2026-W14"): state})
    expected = [("2026-W14", "resume")] if state is SendState.STARTED else []
    assert due_weeks(due) == expected
    if state is SendState.FINISHED:
        text = describe_nothing_due(now, MONDAY_8, BERLIN, GRACE, {key("2026-W14"): state})
        assert text == "weekly:2026-W13 finished already"


def test_a_half_sent_edition_resumes_even_after_grace_and_before_the_new_week() -> None:
    wednesday_next_week = local(BERLIN, 2026, 4, 8, 12, 0)  # W15 is 2.2 days late: out
    states = {key("2026-W14"): SendState.STARTED}
    assert due_weeks(digests_due(wednesday_next_week, MONDAY_8, BERLIN, GRACE, states)) == [
        ("2026-W14", "resume")
    ]


def test_resume_the_older_week_first_then_send_the_new_one() -> None:
    tuesday = local(BERLIN, 2026, 4, 7, 10, 0)  # W15 one day late, W14 half-sent
    states = {key("2026-W14"): SendState.STARTED}
    due = digests_due(tuesday, MONDAY_8, BERLIN, GRACE, states)
    assert due_weeks(due) == [("2026-W14", "resume"), ("2026-W15", "send")]


def test_a_half_sent_edition_older_than_two_schedules_is_left_to_the_operator() -> None:
    now = local(BERLIN, 2026, 4, 14, 9, 0)
    assert weeks_to_check(now, MONDAY_8, BERLIN) == ["2026-W16", "2026-W15"]
    states = {key("2026-W14"): SendState.STARTED, key("2026-W15"): SendState.FINISHED}
    assert due_weeks(digests_due(now, MONDAY_8, BERLIN, GRACE, states)) == [("2026-W16", "send")]


def test_now_without_a_time_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="no time zone"):
        digests_due(datetime(2026, 3, 30, 8, 0), MONDAY_8, BERLIN, GRACE, NOTHING)


# --- never twice, once on time: a service restarted at every minute around the changes ----


@pytest.mark.slow
@pytest.mark.parametrize(
    ("tz", "when", "start"),
    [
        (BERLIN, SUNDAY_0230, utc(2026, 3, 28, 22, 0)),  # the spring gap
        (BERLIN, SUNDAY_0230, utc(2026, 10, 24, 22, 0)),  # the autumn fold
        (NEW_YORK, SUNDAY_0230, utc(2026, 3, 8, 3, 0)),
        (NEW_YORK, SUNDAY_0130, utc(2026, 11, 1, 3, 0)),
        (BERLIN, MONDAY_8, utc(2026, 3, 29, 0, 0)),
        (NEW_YORK, MONDAY_8, utc(2026, 11, 1, 0, 0)),
    ],
)
def test_asking_every_minute_across_a_dst_change_sends_each_week_once(
    tz: ZoneInfo, when: CadenceTime, start: datetime
) -> None:
    states: dict[str, SendState] = {}
    sent_at: dict[str, datetime] = {}
    now = start
    while now < start + timedelta(days=9):
        for item in digests_due(now, when, tz, GRACE, states):
            assert item.action == "send" and item.week not in sent_at
            states[item.week] = SendState.FINISHED
            sent_at[item.week] = now
        now += timedelta(minutes=1)
    assert len(sent_at) in (1, 2)
    for edition, moment in sent_at.items():
        period = parse_period("weekly", edition.partition(":")[2])
        assert moment == period_scheduled_time(period, when, tz)  # on the minute it was due


def test_a_service_down_over_the_change_and_the_monday_sends_once_when_back() -> None:
    states: dict[str, SendState] = {}
    sends = []
    # Up until Saturday night, down through the Berlin change and Monday 08:00, back Monday
    # 11:00, then asked again every 10 minutes (a trigger firing twice, restarts...).
    moments = [local(BERLIN, 2026, 3, 28, 23, 0)]
    back = local(BERLIN, 2026, 3, 30, 11, 0)
    moments += [back + timedelta(minutes=10 * n) for n in range(300)]
    for now in moments:
        for item in digests_due(now, MONDAY_8, BERLIN, GRACE, states):
            states[item.week] = SendState.FINISHED
            sends.append((item.week, now))
    assert sends == [(key("2026-W14"), back)]


# --- properties --------------------------------------------------------------------------

ZONES = st.sampled_from([BERLIN, NEW_YORK, ZoneInfo("UTC"), ZoneInfo("Australia/Lord_Howe")])
TIMES = st.builds(
    CadenceTime,
    st.just("weekly"),
    st.integers(0, 6),
    st.integers(0, 23),
    st.sampled_from([0, 15, 30, 59]),
)
MOMENTS = st.datetimes(
    min_value=datetime(2025, 1, 8), max_value=datetime(2028, 12, 20), timezones=st.just(UTC)
)
STATES = st.sampled_from(list(SendState))


@settings(max_examples=300, deadline=None)
@given(
    now=MOMENTS,
    when=TIMES,
    tz=ZONES,
    grace=st.integers(0, 7 * 24 * 60 - 1).map(lambda m: timedelta(minutes=m)),
    newest=STATES,
    older=STATES,
)
def test_what_is_due_is_always_sensible(
    now: datetime,
    when: CadenceTime,
    tz: ZoneInfo,
    grace: timedelta,
    newest: SendState,
    older: SendState,
) -> None:
    weeks = [p.key for p in periods_to_check(now, when, tz)]
    states = dict(zip(weeks, (newest, older), strict=True))
    due = digests_due(now, when, tz, grace, states)
    assert len({item.week for item in due}) == len(due) <= 2
    assert sum(item.action == "send" for item in due) <= 1
    for item in due:
        assert item.week in weeks and states[item.week] is not SendState.FINISHED
        assert item.scheduled <= now and item.late == now - item.scheduled
        assert (item.action == "resume") == (states[item.week] is SendState.STARTED)
        if item.action == "send":
            assert item.week == weeks[0] and item.late <= grace
    scheduled = [item.scheduled for item in due]
    assert scheduled == sorted(scheduled)
    newest_period = periods_to_check(now, when, tz)[0]
    late = now - period_scheduled_time(newest_period, when, tz)
    if newest is SendState.NOT_STARTED and late <= grace:
        assert (weeks[0], "send") in [(item.week, item.action) for item in due]


def test_weekly_times_read_from_settings_text() -> None:
    assert parse_weekly_time("Mon 08:00") == WeeklyTime(0, 8, 0)
    assert parse_weekly_time("sunday 2:30") == WeeklyTime(6, 2, 30)
    assert str(parse_weekly_time(" SUN  02:30 ")) == "sun 02:30"
    for bad in ("mo 08:00", "mon 8", "mon 24:00", "mon 08:60", "08:00 mon", ""):
        with pytest.raises(ValueError, match=r"DAY HH:MM|not a time of day"):
            parse_weekly_time(bad)
