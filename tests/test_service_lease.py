"""The lease: one holder at a time, taken over when the holder dies. The PostgreSQL advisory
lock runs against the test server (SYNDICATE_TEST_DATABASE_URL); the file lock on any disk."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from syndicate.service.lease import FileLease, NullLease, PgAdvisoryLease, make_lease


def eventually(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def holder_process(code: str) -> subprocess.Popen[str]:
    """A Python process that takes a lease, prints "held" and waits to be killed."""
    process = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")},
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "held"
    return process


# --- SQLite: a lock file -----------------------------------------------------------------


def test_file_lease_one_holder_then_the_next(tmp_path: Path) -> None:
    path = tmp_path / "var" / "site.db.lock"
    first, second = FileLease(path, "host:1"), FileLease(path, "host:2")
    assert first.acquire() and first.check()
    assert not second.acquire() and not second.check()
    assert second.holder() == "host:1"
    assert first.acquire()  # again: still held, no error
    first.release()
    assert not first.check()
    assert second.acquire() and second.holder() == "host:2"
    second.release()


def test_file_lease_is_free_again_when_its_holder_is_killed(tmp_path: Path) -> None:
    path = tmp_path / "site.db.lock"
    process = holder_process(
        f"""
        import time
        from pathlib import Path
        from syndicate.service.lease import FileLease
        assert FileLease(Path({str(path)!r}), "crashing:1").acquire()
        print("held", flush=True)
        time.sleep(60)
        """
    )
    try:
        mine = FileLease(path, "host:2")
        assert not mine.acquire() and mine.holder() == "crashing:1"
    finally:
        process.kill()
        process.wait(10)
    assert mine.acquire()
    mine.release()


def test_make_lease_picks_by_database(tmp_path: Path) -> None:
    lease = make_lease(f"sqlite:///{tmp_path / 'var' / 'site.db'}", "host:1")
    assert isinstance(lease, FileLease) and lease.path == tmp_path / "var" / "site.db.lock"
    assert not lease.shared
    assert isinstance(make_lease("sqlite:///:memory:", "host:1"), NullLease)
    pg = make_lease("postgresql+psycopg://u:secret-pw@db.invalid/syndicate", "host:1")
    assert isinstance(pg, PgAdvisoryLease) and pg.shared
    assert "secret-pw" not in pg.description


# --- PostgreSQL: an advisory lock on a connection of its own -----------------------------


@pytest.fixture
def pg_url(database_url: str) -> str:
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only")
    return database_url


@pytest.fixture
def leases(pg_url: str) -> Iterator[Callable[[str], PgAdvisoryLease]]:
    made: list[PgAdvisoryLease] = []

    def make(instance: str, url: str = pg_url) -> PgAdvisoryLease:
        made.append(PgAdvisoryLease(url, instance))
        return made[-1]

    yield make
    for lease in made:
        lease.release()


def terminate(url: str, instance: str) -> int:
    """Kill the server side of an instance's lease connection, as a dead host would leave."""
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            return len(
                conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE application_name = :name"
                    ),
                    {"name": f"syndicate run {instance}"},
                ).all()
            )
    finally:
        engine.dispose()


def test_pg_lease_one_holder_the_other_takes_over_when_its_connection_dies(
    pg_url: str, leases: Callable[[str], PgAdvisoryLease]
) -> None:
    # A name of its own: terminate() kills by name, and tests on other workers use host-a:1.
    dying = f"host-a:{uuid.uuid4().hex[:8]}"
    first, second = leases(dying), leases("host-b:2")
    assert first.acquire() and first.check()
    assert not second.acquire() and not second.check()
    assert second.holder() == f"syndicate run {dying}"
    assert first.acquire()  # renewing is a check, not a second lock
    assert terminate(pg_url, dying) == 1
    assert eventually(second.acquire)
    assert second.check()
    assert not first.check()  # the dead holder notices at its next check
    assert first.last_error  # why, for the log line
    assert not first.acquire()


def test_pg_lease_released_is_taken_at_once(leases: Callable[[str], PgAdvisoryLease]) -> None:
    first, second = leases("host-a:1"), leases("host-b:2")
    assert first.acquire()
    first.release()
    assert second.acquire()
    assert not first.acquire()


def test_pg_lease_of_a_killed_process_passes_to_the_next(
    pg_url: str, leases: Callable[[str], PgAdvisoryLease]
) -> None:
    process = holder_process(
        f"""
        import time
        from syndicate.service.lease import PgAdvisoryLease
        lease = PgAdvisoryLease({pg_url!r}, "crashing:9")
        assert lease.acquire()
        print("held", flush=True)
        time.sleep(60)
        """
    )
    mine = leases("host-b:2")
    try:
        assert not mine.acquire() and mine.holder() == "syndicate run crashing:9"
    finally:
        process.kill()
        process.wait(10)
    assert eventually(mine.acquire)


def test_pg_leases_of_two_schemas_are_independent(
    pg_url: str, leases: Callable[[str], PgAdvisoryLease]
) -> None:
    other = f"test_{uuid.uuid4().hex[:16]}"
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{other}"')
    try:
        other_url = make_url(pg_url).update_query_dict({"options": f"-csearch_path={other}"})
        mine = leases("site-a:1")
        theirs = PgAdvisoryLease(other_url.render_as_string(hide_password=False), "site-b:1")
        try:
            assert mine.acquire() and theirs.acquire()
        finally:
            theirs.release()
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{other}" CASCADE')
        admin.dispose()


def test_pg_lease_on_an_unreachable_server_is_not_held() -> None:
    lease = PgAdvisoryLease("postgresql+psycopg://nobody@127.0.0.1:1/none", "host:1")
    try:
        assert not lease.acquire() and not lease.check()
        assert lease.last_error
    finally:
        lease.release()
