"""Name, value and size rules of preferences, without storage or the app."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request

from tiles_edge.api.principal import current_user_id
from tiles_edge.errors import ApiError
from tiles_edge.preferences import (
    MAX_VALUE_BYTES,
    encode_value,
    entry_size,
    validate_category,
    validate_client_id,
    validate_key,
    validate_writable_category,
)


@pytest.mark.parametrize(
    "category", ["appearance", "sensors", "kpi", "sections", "a", "x1", "a.b_c-d", "a" * 64]
)
def test_category_accepts(category: str):
    assert validate_category(category) == category


@pytest.mark.parametrize(
    "category",
    [
        "",
        "Appearance",
        "1abc",
        "_private",
        ".",
        "..",
        "a/b",
        "a b",
        "a:b",
        "a" * 65,
        "caf\u00e9",
        "a\n",
        None,
        3,
    ],
)
def test_category_rejects(category: object):
    with pytest.raises(ApiError) as caught:
        validate_category(category)
    assert caught.value.status == 400
    assert caught.value.code == "invalid_category"
    assert "category" in caught.value.message


@pytest.mark.parametrize("category", ["backgrounds", "migrate"])
def test_reserved_category_not_writable(category: str):
    assert validate_category(category) == category
    with pytest.raises(ApiError) as caught:
        validate_writable_category(category)
    assert caught.value.status == 400
    assert caught.value.code == "reserved_category"


@pytest.mark.parametrize(
    "key", ["fontSize", "darkMode", "main:12", "order", "0", "a.b-c_d:e", "K" * 128]
)
def test_key_accepts(key: str):
    assert validate_key(key) == key


@pytest.mark.parametrize(
    "key",
    ["", ".", "..", ".hidden", "-x", ":x", "a/b", "a\\b", "a b", "a%2f", "K" * 129, "\u00e9", None],
)
def test_key_rejects(key: object):
    with pytest.raises(ApiError) as caught:
        validate_key(key)
    assert caught.value.status == 400
    assert caught.value.code == "invalid_key"
    assert "key" in caught.value.message


def test_error_message_shortens_long_names():
    with pytest.raises(ApiError) as caught:
        validate_category("X" * 5000)
    assert len(caught.value.message) < 300


@pytest.mark.parametrize(
    "value", [None, True, 0, -1.5, "text", [], {}, {"a": [1, {"b": None}]}, "\u00e9\u263a"]
)
def test_encode_value_accepts_json(value: object):
    assert isinstance(encode_value(value), str)


def test_encode_value_size_limit_is_inclusive():
    # A JSON string adds two quote characters to its content.
    at_limit = "x" * (MAX_VALUE_BYTES - 2)
    assert len(encode_value(at_limit)) == MAX_VALUE_BYTES
    with pytest.raises(ApiError) as caught:
        encode_value(at_limit + "x")
    assert caught.value.status == 413
    assert caught.value.code == "value_too_large"


def test_encode_value_counts_utf8_bytes():
    # Each "\u00e9" is two bytes in UTF-8.
    with pytest.raises(ApiError) as caught:
        encode_value("\u00e9" * (MAX_VALUE_BYTES // 2))
    assert caught.value.status == 413


@pytest.mark.parametrize("value", [float("nan"), float("inf"), {"a": [float("-inf")]}, object()])
def test_encode_value_rejects_non_json(value: object):
    with pytest.raises(ApiError) as caught:
        encode_value(value)
    assert caught.value.status == 400
    assert caught.value.code == "invalid_value"


def test_entry_size_counts_names_and_value():
    assert entry_size("ab", "cde", [1, 2]) == 2 + 3 + len("[1,2]")


@pytest.mark.parametrize("client_id", ["tab-1", "a_B", "x" * 64])
def test_client_id_accepts(client_id: str):
    assert validate_client_id(client_id) == client_id


def test_client_id_optional():
    assert validate_client_id(None) is None


@pytest.mark.parametrize("client_id", ["", "a b", "x" * 65, "<script>", 5])
def test_client_id_rejects(client_id: object):
    with pytest.raises(ApiError) as caught:
        validate_client_id(client_id)
    assert caught.value.status == 400


def make_request(principal: Any = None) -> Request:
    app = Starlette()
    state = {} if principal is None else {"principal": principal}
    return Request({"type": "http", "app": app, "state": state, "headers": []})


def test_current_user_is_the_principal():
    assert current_user_id(make_request(SimpleNamespace(user_id=7))) == 7


def test_current_user_accepts_mapping_principal():
    assert current_user_id(make_request({"user_id": 9})) == 9


@pytest.mark.parametrize(
    "principal",
    [None, SimpleNamespace(user_id=None), {"user_id": "7"}, SimpleNamespace(user_id=True)],
)
def test_current_user_without_user_is_401(principal):
    with pytest.raises(ApiError) as caught:
        current_user_id(make_request(principal))
    assert caught.value.status == 401
