"""Login throttling: free tries, growing delays, cap, reset and bounded memory."""

from __future__ import annotations

import pytest

from tiles_edge.auth.throttle import LoginThrottle


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def test_free_attempts_then_doubling(clock: FakeClock) -> None:
    throttle = LoginThrottle(free_attempts=3, address_free_attempts=100, clock=clock)
    waits = []
    for _ in range(7):
        assert throttle.retry_after("alice", "192.168.1.5") == 0
        waits.append(throttle.record_failure("alice", "192.168.1.5"))
        clock.advance(waits[-1])
    assert waits == [0, 0, 0, 1, 2, 4, 8]


def test_delay_capped_at_15_minutes(clock: FakeClock) -> None:
    throttle = LoginThrottle(free_attempts=0, address_free_attempts=1000, clock=clock)
    wait = 0
    for _ in range(40):
        clock.advance(wait)
        wait = throttle.record_failure("alice", "192.168.1.5")
    assert wait == 900
    clock.advance(899)
    assert throttle.retry_after("alice", "192.168.1.5") == 1
    clock.advance(1)
    assert throttle.retry_after("alice", "192.168.1.5") == 0


def test_attempts_while_blocked_do_not_extend(clock: FakeClock) -> None:
    throttle = LoginThrottle(free_attempts=1, clock=clock)
    throttle.record_failure("alice", "10.0.0.1")
    assert throttle.record_failure("alice", "10.0.0.1") == 1
    for _ in range(50):
        assert throttle.retry_after("alice", "10.0.0.1") == 1
    clock.advance(1)
    assert throttle.retry_after("alice", "10.0.0.1") == 0


def test_per_address_across_usernames(clock: FakeClock) -> None:
    throttle = LoginThrottle(free_attempts=100, address_free_attempts=3, clock=clock)
    for name in ("a", "b", "c"):
        throttle.record_failure(name, "10.0.0.9")
    assert throttle.retry_after("d", "10.0.0.9") == 0
    throttle.record_failure("d", "10.0.0.9")
    assert throttle.retry_after("e", "10.0.0.9") == 1
    assert throttle.retry_after("e", "10.0.0.10") == 0


def test_per_username_across_addresses(clock: FakeClock) -> None:
    throttle = LoginThrottle(free_attempts=2, clock=clock)
    throttle.record_failure("Alice", "10.0.0.1")
    throttle.record_failure("alice", "10.0.0.2")
    throttle.record_failure("ALICE ", "10.0.0.3")
    assert throttle.retry_after("alice", "10.0.0.4") == 1


def test_success_resets_username_only(clock: FakeClock) -> None:
    throttle = LoginThrottle(free_attempts=2, address_free_attempts=4, clock=clock)
    for _ in range(4):
        throttle.record_failure("alice", "10.0.0.1")
        clock.advance(60)
    throttle.record_success("alice", "10.0.0.1")
    assert throttle.retry_after("alice", "10.0.0.2") == 0
    assert throttle.record_failure("bob", "10.0.0.1") == 1


def test_unlock_clears_username(clock: FakeClock) -> None:
    throttle = LoginThrottle(free_attempts=0, address_free_attempts=100, clock=clock)
    throttle.record_failure("alice", "10.0.0.1")
    assert throttle.retry_after("alice", "10.0.0.1") == 1
    assert throttle.unlock("ALICE")
    assert throttle.retry_after("alice", "10.0.0.1") == 0
    assert not throttle.unlock("alice")


def test_forgotten_after_quiet_period(clock: FakeClock) -> None:
    throttle = LoginThrottle(free_attempts=2, forget_after_s=3600, clock=clock)
    throttle.record_failure("alice", "10.0.0.1")
    throttle.record_failure("alice", "10.0.0.1")
    clock.advance(3600)
    assert throttle.record_failure("alice", "10.0.0.1") == 0
    assert len(throttle) == 2


def test_memory_bounded(clock: FakeClock) -> None:
    throttle = LoginThrottle(max_entries=100, clock=clock)
    for index in range(1000):
        throttle.record_failure(f"user{index}", f"10.0.{index // 256}.{index % 256}")
    assert len(throttle) <= 100
    throttle.record_failure("last", "10.9.9.9")
    assert len(throttle) <= 100


def test_invalid_configuration_rejected() -> None:
    with pytest.raises(ValueError, match="delays"):
        LoginThrottle(base_delay_s=0)
    with pytest.raises(ValueError, match="max_entries"):
        LoginThrottle(max_entries=1)
