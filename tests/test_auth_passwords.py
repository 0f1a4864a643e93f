"""Password hashing: bcrypt cost, long passwords, length rules and the dummy hash."""

from __future__ import annotations

import asyncio
import threading

import bcrypt
import pytest

from tiles_edge.auth import passwords
from tiles_edge.auth.passwords import PasswordHasher, PasswordPolicyError


@pytest.fixture
def hasher() -> PasswordHasher:
    return PasswordHasher.insecure_for_tests()


def test_production_cost_below_12_rejected() -> None:
    with pytest.raises(ValueError, match="below the minimum of 12"):
        PasswordHasher(cost=11)


async def test_default_cost_is_12() -> None:
    hasher = PasswordHasher()
    assert hasher.cost == 12
    stored = await hasher.hash("correct horse battery")
    assert stored.startswith("$2b$12$")
    assert await hasher.verify("correct horse battery", stored)


async def test_hash_and_verify_round_trip(hasher: PasswordHasher) -> None:
    stored = await hasher.hash("correct horse battery")
    assert "correct horse" not in stored
    assert await hasher.verify("correct horse battery", stored)
    assert not await hasher.verify("correct horse batterx", stored)


async def test_passwords_differing_after_byte_72(hasher: PasswordHasher) -> None:
    first = "a" * 79 + "1"
    second = "a" * 79 + "2"
    assert len(first.encode()) == 80
    first_hash = await hasher.hash(first)
    second_hash = await hasher.hash(second)
    assert await hasher.verify(first, first_hash)
    assert await hasher.verify(second, second_hash)
    assert not await hasher.verify(second, first_hash)
    assert not await hasher.verify(first, second_hash)


async def test_multibyte_passwords_over_72_bytes(hasher: PasswordHasher) -> None:
    base = "ü" * 40  # 80 bytes in UTF-8
    stored = await hasher.hash(base)
    assert not await hasher.verify(base[:-1] + "ö", stored)
    assert await hasher.verify(base, stored)


async def test_nfkc_equivalent_forms_match(hasher: PasswordHasher) -> None:
    composed = "caf\u00e9 au lait!"
    decomposed = "cafe\u0301 au lait!"
    stored = await hasher.hash(composed)
    assert await hasher.verify(decomposed, stored)


async def test_short_password_message(hasher: PasswordHasher) -> None:
    with pytest.raises(PasswordPolicyError) as info:
        await hasher.hash("short")
    assert info.value.status == 400
    assert info.value.message == "password is too short (5 characters): use at least 10 characters"


def test_min_length_configurable() -> None:
    hasher = PasswordHasher.insecure_for_tests(min_length=14)
    with pytest.raises(PasswordPolicyError, match="at least 14"):
        hasher.validate("thirteen-char")
    hasher.validate("fourteen-chars")


def test_overlong_password_rejected(hasher: PasswordHasher) -> None:
    with pytest.raises(PasswordPolicyError, match="too long"):
        hasher.validate("x" * (passwords.MAX_PASSWORD_LENGTH + 1))


@pytest.mark.parametrize("stored", [None, "", "plain", "$2b$04$short", "x" * 60])
async def test_unusable_hash_runs_dummy(hasher: PasswordHasher, stored: str | None) -> None:
    calls: list[bytes] = []
    real_checkpw = bcrypt.checkpw

    def spy(password: bytes, hashed: bytes) -> bool:
        calls.append(hashed)
        return real_checkpw(password, hashed)

    passwords.bcrypt.checkpw = spy  # type: ignore[assignment]
    try:
        assert not await hasher.verify("whatever password", stored)
    finally:
        passwords.bcrypt.checkpw = real_checkpw  # type: ignore[assignment]
    assert len(calls) == 1
    assert calls[0].startswith(b"$2b$04$")


async def test_hashing_runs_off_event_loop(hasher: PasswordHasher) -> None:
    loop_thread = threading.get_ident()
    threads: list[int] = []
    real_hashpw = bcrypt.hashpw

    def spy(password: bytes, salt: bytes) -> bytes:
        threads.append(threading.get_ident())
        return real_hashpw(password, salt)

    passwords.bcrypt.hashpw = spy  # type: ignore[assignment]
    try:
        await asyncio.gather(hasher.hash("first password"), hasher.hash("second password"))
    finally:
        passwords.bcrypt.hashpw = real_hashpw  # type: ignore[assignment]
    assert len(threads) == 2
    assert loop_thread not in threads


async def test_needs_rehash_for_lower_cost(hasher: PasswordHasher) -> None:
    stored = await hasher.hash("correct horse battery")
    assert not hasher.needs_rehash(stored)
    assert PasswordHasher().needs_rehash(stored)
    assert PasswordHasher().needs_rehash("garbage")
