"""Session and API tokens: entropy, prefix and stored form."""

from __future__ import annotations

import base64
import hashlib

from tiles_edge.auth import tokens


def test_session_token_has_256_bits() -> None:
    token = tokens.new_session_token()
    raw = base64.urlsafe_b64decode(token + "=")
    assert len(raw) == 32
    assert tokens.is_well_formed_session_token(token)


def test_tokens_are_unique() -> None:
    assert len({tokens.new_session_token() for _ in range(1000)}) == 1000
    assert len({tokens.new_api_token() for _ in range(1000)}) == 1000


def test_api_token_prefix_and_shape() -> None:
    token = tokens.new_api_token()
    assert token.startswith("tiles_")
    assert len(base64.urlsafe_b64decode(token.removeprefix("tiles_") + "=")) == 32
    assert tokens.is_well_formed_api_token(token)
    assert not tokens.is_well_formed_api_token(token.removeprefix("tiles_"))
    assert not tokens.is_well_formed_api_token(token + "x")
    assert not tokens.is_well_formed_session_token("a" * 42 + "!")


def test_hash_token_is_sha256_hex() -> None:
    token = tokens.new_session_token()
    assert tokens.hash_token(token) == hashlib.sha256(token.encode()).hexdigest()
    assert token not in tokens.hash_token(token)


def test_token_matches_and_hint() -> None:
    token = tokens.new_api_token()
    assert tokens.token_matches(token, token)
    assert not tokens.token_matches(token, tokens.new_api_token())
    hint = tokens.token_hint(token)
    assert hint.startswith("tiles_")
    assert len(hint) == len("tiles_") + 5
