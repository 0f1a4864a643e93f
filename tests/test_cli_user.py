"""``tiles-edge user …`` and ``tiles-edge token …`` against the database of a running server."""

from __future__ import annotations

import asyncio
import re

import pytest
from apphelpers import ADMIN_USERNAME, USER_PASSWORD, Demo, running_demo

from tiles_edge.cli import main
from tiles_edge.usercli import PASSWORD_ENV, UserCliError, read_new_password

NEW_PASSWORD = "a new password 34"


async def run_cli(demo: Demo, *argv: str) -> int:
    """Run the command line on the demo's state directory, in a thread as a separate run."""
    args = [*argv, "--state-dir", str(demo.settings.state_dir)]
    return await asyncio.to_thread(main, args)


async def login_status(demo: Demo, username: str, password: str) -> int:
    async with demo.anonymous_client() as client:
        reply = await client.post(
            "/api/auth/login", json={"username": username, "password": password}
        )
        return reply.status_code


async def test_first_admin_from_cli_on_fresh_install(tmp_path, monkeypatch, capsys):
    async with running_demo(tmp_path, hubs=(), signed_in=False) as demo:
        assert (await demo.client.get("/api/devices")).status_code == 401
        monkeypatch.setenv(PASSWORD_ENV, NEW_PASSWORD)
        assert await run_cli(demo, "user", "add", "--admin", "root") == 0
        assert "added admin 'root'" in capsys.readouterr().out

        async with demo.anonymous_client() as client:
            setup = await client.post(
                "/api/auth/setup", json={"username": "intruder", "password": "x" * 12}
            )
            assert setup.status_code == 403
            assert setup.json()["error"]["code"] == "setup_closed"
        assert await demo.services.storage.get_user_by_username("intruder") is None

        async with demo.signed_in_client("root", NEW_PASSWORD) as root:
            reply = await root.get("/api/auth/users")
            assert reply.status_code == 200
            assert [user["username"] for user in reply.json()["users"]] == ["root"]


async def test_user_add_and_list(tmp_path, monkeypatch, capsys):
    async with running_demo(tmp_path, hubs=()) as demo:
        monkeypatch.setenv(PASSWORD_ENV, NEW_PASSWORD)
        assert await run_cli(demo, "user", "add", "kiosk") == 0
        record = await demo.services.storage.get_user_by_username("kiosk")
        assert record is not None
        assert record.role == "user"
        assert record.active
        assert await login_status(demo, "kiosk", NEW_PASSWORD) == 200

        assert await run_cli(demo, "user", "add", "kiosk") == 2
        assert "exists already" in capsys.readouterr().err

        assert await run_cli(demo, "user", "list") == 0
        lines = capsys.readouterr().out.splitlines()
        assert any(line.split()[1:4] == [ADMIN_USERNAME, "admin", "active"] for line in lines)
        assert any(line.split()[1:4] == ["kiosk", "user", "active"] for line in lines)


async def test_user_add_rejects_short_password_and_bad_name(tmp_path, monkeypatch, capsys):
    async with running_demo(tmp_path, hubs=()) as demo:
        monkeypatch.setenv(PASSWORD_ENV, "short")
        assert await run_cli(demo, "user", "add", "someone") == 2
        assert "too short" in capsys.readouterr().err
        monkeypatch.setenv(PASSWORD_ENV, NEW_PASSWORD)
        assert await run_cli(demo, "user", "add", "-bad name") == 2
        assert await demo.services.storage.get_user_by_username("someone") is None


def test_password_prompt_must_repeat():
    answers = iter(["first password 1", "other password 2"])
    with pytest.raises(Exception, match="differ"):
        read_new_password(lambda _: next(answers), environ={})
    answers = iter([NEW_PASSWORD, NEW_PASSWORD])
    assert read_new_password(lambda _: next(answers), environ={}) == NEW_PASSWORD
    assert read_new_password(environ={PASSWORD_ENV: "from env 123"}) == "from env 123"


async def test_passwd_ends_sessions_on_running_server(tmp_path, monkeypatch):
    async with running_demo(tmp_path, hubs=()) as demo:
        await demo.add_user("alice")
        async with demo.signed_in_client("alice") as alice:
            assert (await alice.get("/api/auth/session")).json()["user"]["username"] == "alice"
            assert (await alice.get("/api/status")).status_code == 200
            monkeypatch.setenv(PASSWORD_ENV, NEW_PASSWORD)
            assert await run_cli(demo, "user", "passwd", "alice") == 0
            assert (await alice.get("/api/status")).status_code == 401
        assert await login_status(demo, "alice", USER_PASSWORD) == 401
        assert await login_status(demo, "alice", NEW_PASSWORD) == 200


async def test_disable_and_delete_end_sessions(tmp_path):
    async with running_demo(tmp_path, hubs=()) as demo:
        await demo.add_user("bob")
        await demo.add_user("carol")
        async with (
            demo.signed_in_client("bob") as bob,
            demo.signed_in_client("carol") as carol,
        ):
            assert await run_cli(demo, "user", "disable", "bob") == 0
            assert (await bob.get("/api/status")).status_code == 401
            assert await login_status(demo, "bob", USER_PASSWORD) == 403

            assert await run_cli(demo, "user", "delete", "carol") == 0
            assert (await carol.get("/api/status")).status_code == 401
            assert await demo.services.storage.get_user_by_username("carol") is None
            assert await login_status(demo, "carol", USER_PASSWORD) == 401
        # The admin's own session is untouched.
        assert (await demo.client.get("/api/status")).status_code == 200


async def test_last_admin_cannot_be_disabled_or_deleted(tmp_path, capsys):
    async with running_demo(tmp_path, hubs=()) as demo:
        assert await run_cli(demo, "user", "disable", ADMIN_USERNAME) == 2
        assert await run_cli(demo, "user", "delete", ADMIN_USERNAME) == 2
        assert "last active admin" in capsys.readouterr().err
        assert (await demo.client.get("/api/status")).status_code == 200
        assert await run_cli(demo, "user", "disable", "nobody") == 2
        assert "no user named 'nobody'" in capsys.readouterr().err


async def test_unlock_reaches_running_server(tmp_path):
    async with running_demo(tmp_path, hubs=()) as demo:
        await demo.add_user("dave")
        statuses = [await login_status(demo, "dave", "wrong password!") for _ in range(6)]
        assert statuses[-1] == 401
        # Throttled now, even with the right password.
        assert await login_status(demo, "dave", USER_PASSWORD) == 429

        assert await run_cli(demo, "user", "unlock", "dave") == 0
        assert await login_status(demo, "dave", USER_PASSWORD) == 200
        # The marker is used up: new failures throttle again.
        for _ in range(6):
            await login_status(demo, "dave", "wrong password!")
        assert await login_status(demo, "dave", USER_PASSWORD) == 429


async def test_unlock_marker_does_not_outlive_its_purpose(tmp_path):
    async with running_demo(tmp_path, hubs=()) as demo:
        await demo.add_user("erin")
        # An unlock for a user who is not throttled is used up by nothing, but a stale
        # marker must not lift a block that starts much later.
        assert await run_cli(demo, "user", "unlock", "erin") == 0
        key = "auth.unlock.erin"
        marker = await demo.services.storage.get_app_state(key)
        await demo.services.storage.set_app_state(
            key, {"requestedAt": marker["requestedAt"] - 3600}
        )
        for _ in range(6):
            await login_status(demo, "erin", "wrong password!")
        assert await login_status(demo, "erin", USER_PASSWORD) == 429
        assert await demo.services.storage.get_app_state(key) is None


async def test_token_create_list_revoke(tmp_path, capsys):
    async with running_demo(tmp_path, hubs=()) as demo:
        await demo.add_user("script-owner")
        assert (
            await run_cli(demo, "token", "create", "--user", "script-owner", "--name", "backup")
        ) == 0
        out = capsys.readouterr().out
        token = re.search(r"^(tiles_\S+)$", out, re.MULTILINE)
        assert token is not None, out
        bearer = {"authorization": f"Bearer {token.group(1)}"}
        async with demo.anonymous_client() as script:
            assert (await script.get("/api/status", headers=bearer)).status_code == 200
            session = await script.get("/api/auth/session", headers=bearer)
            assert session.json()["user"]["username"] == "script-owner"

            assert await run_cli(demo, "token", "list") == 0
            listing = capsys.readouterr().out
            assert token.group(1) not in listing
            row = next(line for line in listing.splitlines() if "backup" in line)
            token_id = row.split()[0]
            assert row.split()[1] == "script-owner"
            assert row.split()[-1] == "active"

            assert await run_cli(demo, "token", "revoke", token_id) == 0
            assert (await script.get("/api/status", headers=bearer)).status_code == 401
            assert await run_cli(demo, "token", "revoke", token_id) == 2
            assert await run_cli(demo, "token", "list", "--user", "script-owner") == 0
            assert capsys.readouterr().out.splitlines()[-1].split()[-1] == "revoked"
        assert await run_cli(demo, "token", "create", "--user", "nobody", "--name", "x") == 2


def test_password_prompt_without_terminal_says_how():
    def closed_input(prompt=""):
        raise EOFError

    with pytest.raises(UserCliError, match="set TILES_USER_PASSWORD or run the command"):
        read_new_password(prompt=closed_input, environ={})


def test_passwd_unknown_user_before_prompt(tmp_path, capsys, monkeypatch):
    # Any prompt would read pytest's captured stdin and fail the test.
    monkeypatch.delenv("TILES_USER_PASSWORD", raising=False)
    assert main(["user", "passwd", "nosuch", "--state-dir", str(tmp_path / "state")]) == 2
    assert "nosuch" in capsys.readouterr().err


def test_passwd_without_terminal_one_line(tmp_path, capsys, monkeypatch):
    state = str(tmp_path / "state")
    monkeypatch.setenv("TILES_USER_PASSWORD", "first password 1")
    assert main(["user", "add", "--admin", "root", "--state-dir", state]) == 0
    monkeypatch.delenv("TILES_USER_PASSWORD")
    capsys.readouterr()
    # pytest's stdin is no terminal, as under cron or a pipe.
    assert main(["user", "passwd", "root", "--state-dir", state]) == 2
    captured = capsys.readouterr()
    assert captured.err.strip().splitlines() == [
        "tiles-edge: no password given: set TILES_USER_PASSWORD or run the command in a terminal"
    ]
    assert captured.out == ""
