"""Password hashing with bcrypt, run in a worker thread so the event loop never blocks.

bcrypt reads at most 72 bytes of its input (bcrypt 5 raises on longer input instead of
truncating). Every password is therefore pre-hashed with HMAC-SHA256 and base64-encoded
(44 ASCII bytes, no NUL) before bcrypt sees it, so every byte of a long password counts.
The HMAC key is a fixed domain-separation constant, not a secret: it keeps a leaked hash
from matching plain SHA-256 hash lists.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import unicodedata

import bcrypt

from tiles_edge.errors import ApiError

MIN_BCRYPT_COST = 12
DEFAULT_BCRYPT_COST = 12
DEFAULT_MIN_PASSWORD_LENGTH = 10
# bcrypt at cost 12 costs the same for any input length, but the HMAC and the request body
# do not; 1024 characters is far above any passphrase a person types.
MAX_PASSWORD_LENGTH = 1024

_PREHASH_KEY = b"tiles-edge password pre-hash v1"


class PasswordPolicyError(ApiError):
    """A new password breaks a length rule, which the message names."""

    def __init__(self, message: str) -> None:
        super().__init__(400, "invalid_password", message)


def _prehash(password: str) -> bytes:
    # NFKC makes the same passphrase typed on two keyboards (composed or decomposed accents,
    # full-width digits) produce the same bytes, as NIST SP 800-63B section 5.1.1.2 advises.
    normalized = unicodedata.normalize("NFKC", password).encode("utf-8")
    digest = hmac.new(_PREHASH_KEY, normalized, hashlib.sha256).digest()
    return base64.b64encode(digest)


class PasswordHasher:
    """Hash and check passwords with bcrypt at a fixed cost, off the event loop.

    ``cost`` below 12 raises ``ValueError``; tests that need speed use
    ``PasswordHasher.insecure_for_tests()``.
    """

    def __init__(
        self,
        *,
        cost: int = DEFAULT_BCRYPT_COST,
        min_length: int = DEFAULT_MIN_PASSWORD_LENGTH,
    ) -> None:
        if cost < MIN_BCRYPT_COST:
            raise ValueError(f"bcrypt cost {cost} is below the minimum of {MIN_BCRYPT_COST}")
        self._init(cost, min_length)

    @classmethod
    def insecure_for_tests(cls, *, cost: int = 4, min_length: int = 10) -> PasswordHasher:
        """Build a hasher with a low bcrypt cost. Only tests may call this."""
        hasher = cls.__new__(cls)
        hasher._init(cost, min_length)
        return hasher

    def _init(self, cost: int, min_length: int) -> None:
        if min_length < 1:
            raise ValueError(f"minimum password length must be at least 1, got {min_length}")
        self.cost = cost
        self.min_length = min_length
        self._dummy_hash: bytes | None = None
        self._dummy_lock = asyncio.Lock()

    def validate(self, password: str) -> None:
        """Raise PasswordPolicyError unless ``password`` is acceptable as a new password."""
        if len(password) < self.min_length:
            raise PasswordPolicyError(
                f"password is too short ({len(password)} characters): "
                f"use at least {self.min_length} characters"
            )
        if len(password) > MAX_PASSWORD_LENGTH:
            raise PasswordPolicyError(
                f"password is too long ({len(password)} characters): "
                f"use at most {MAX_PASSWORD_LENGTH} characters"
            )

    async def hash(self, password: str) -> str:
        """Validate ``password`` and return its bcrypt hash (``$2b$<cost>$...``)."""
        self.validate(password)
        return await asyncio.to_thread(self._hash_sync, password)

    async def rehash(self, password: str) -> str:
        """Hash a password already in use at this hasher's cost, without the new-password rules.

        Used after a successful sign-in when ``needs_rehash`` is True.
        """
        return await asyncio.to_thread(self._hash_sync, password)

    def _hash_sync(self, password: str) -> str:
        salt = bcrypt.gensalt(rounds=self.cost)
        return bcrypt.hashpw(_prehash(password), salt).decode("ascii")

    async def verify(self, password: str, stored_hash: str | None) -> bool:
        """Check ``password`` against ``stored_hash``.

        With no usable hash (unknown user, password-less account) a dummy hash is checked
        instead, so the reply takes as long as a wrong password and reveals nothing.
        """
        if len(password) > MAX_PASSWORD_LENGTH:
            password = password[:MAX_PASSWORD_LENGTH]
            stored_hash = None
        expected = _parse_hash(stored_hash)
        if expected is None:
            dummy = await self._get_dummy_hash()
            await asyncio.to_thread(bcrypt.checkpw, _prehash(password), dummy)
            return False
        return await asyncio.to_thread(bcrypt.checkpw, _prehash(password), expected)

    def needs_rehash(self, stored_hash: str) -> bool:
        """Tell whether ``stored_hash`` used a lower cost than this hasher."""
        parsed = _parse_hash(stored_hash)
        if parsed is None:
            return True
        try:
            return int(parsed.split(b"$")[2]) < self.cost
        except (IndexError, ValueError):
            return True

    async def _get_dummy_hash(self) -> bytes:
        async with self._dummy_lock:
            if self._dummy_hash is None:
                self._dummy_hash = (
                    await asyncio.to_thread(self._hash_sync, "dummy password for timing")
                ).encode("ascii")
            return self._dummy_hash


def _parse_hash(stored_hash: str | None) -> bytes | None:
    if not stored_hash or not stored_hash.startswith(("$2a$", "$2b$", "$2y$")):
        return None
    try:
        encoded = stored_hash.encode("ascii")
    except UnicodeEncodeError:
        return None
    # A bcrypt hash is exactly 60 characters: "$2b$" + two-digit cost + "$" + 53.
    if len(encoded) != 60:
        return None
    return encoded
