"""Security log lines: one line, UTC time, user, address, outcome, no secrets."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta, timezone

import pytest

from tiles_edge.auth.securitylog import SecurityLog


def fixed_clock() -> datetime:
    return datetime(2026, 12, 4, 21, 30, 5, tzinfo=timezone(timedelta(hours=2)))


def test_line_has_utc_time_user_address_outcome(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="tiles_edge.security")
    SecurityLog(fixed_clock).event(
        "login", outcome="failed", user="alice", address="192.168.1.5", reason="bad_password"
    )
    [record] = caplog.records
    assert record.name == "tiles_edge.security"
    assert record.getMessage() == (
        "2026-12-04T19:30:05Z login outcome=failed user=alice address=192.168.1.5 "
        "reason=bad_password"
    )


def test_values_escaped_to_one_line(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="tiles_edge.security")
    SecurityLog().event("login", outcome="failed", user="eve\n2026-01-01T00:00:00Z login ok")
    [record] = caplog.records
    message = record.getMessage()
    assert "\n" not in message
    assert "user='eve\\n2026-01-01T00:00:00Z login ok'" in message


def test_missing_values_shown_as_dash(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="tiles_edge.security")
    SecurityLog().event("request_denied", outcome="denied", level=logging.WARNING)
    [record] = caplog.records
    assert record.levelno == logging.WARNING
    assert record.getMessage().endswith("request_denied outcome=denied user=- address=-")
    timestamp = record.getMessage().split(" ", 1)[0]
    parsed = datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert abs(parsed - datetime.now(UTC)) < timedelta(hours=1)


def test_long_values_truncated(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="tiles_edge.security")
    SecurityLog().event("login", outcome="failed", user="x" * 500)
    assert len(caplog.records[0].getMessage()) < 300


@pytest.mark.parametrize("field", ["password", "new_password", "token", "api_token", "cookie"])
def test_secret_like_fields_rejected(field: str) -> None:
    with pytest.raises(TypeError, match="looks like a secret"):
        SecurityLog().event("login", outcome="ok", **{field: "hunter2"})
