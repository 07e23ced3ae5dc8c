"""config/syndicate.service agrees with the service: how it stops, what it may write."""

from __future__ import annotations

import configparser
import shutil
import subprocess
from pathlib import Path

import pytest

from syndicate.service.runner import STOP_TIMEOUT

UNIT = Path(__file__).resolve().parents[1] / "config" / "syndicate.service"


def unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(UNIT.read_text(encoding="utf-8"))
    return parser


def test_the_unit_stops_with_sigterm_after_the_jobs_had_their_time() -> None:
    service = unit()["Service"]
    assert service["KillSignal"] == "SIGTERM"
    assert int(service["TimeoutStopSec"]) >= STOP_TIMEOUT + 5
    assert service["Restart"] == "on-failure" and service["Type"] == "simple"
    assert service["ExecStart"].endswith(" run")
    assert service["EnvironmentFile"].startswith("/etc/")


def test_the_unit_is_hardened_and_writes_only_var() -> None:
    service = unit()["Service"]
    assert service["NoNewPrivileges"] == "yes" and service["ProtectSystem"] == "strict"
    working = service["WorkingDirectory"]
    assert service["ReadWritePaths"].split() == [f"{working}/var"]
    assert service["User"] != "root"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    text = UNIT.read_text(encoding="utf-8")
    exec_start = next(line for line in text.splitlines() if line.startswith("ExecStart="))
    copy = tmp_path / "syndicate.service"
    copy.write_text(text.replace(exec_start, "ExecStart=/bin/true run"), encoding="utf-8")
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(copy)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and result.stderr.strip() == "", result.stderr
