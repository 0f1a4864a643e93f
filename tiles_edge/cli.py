"""The ``tiles-edge`` command line: serve, demo, settings, hubs, users and API tokens."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import getpass
import logging
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from tiles_edge import __version__
from tiles_edge.config import (
    SETTINGS,
    Settings,
    SettingsError,
    describe_settings,
    load_settings,
)
from tiles_edge.dbcli import DbCliError
from tiles_edge.errors import TilesError
from tiles_edge.usercli import UserCliError

log = logging.getLogger(__name__)

HUB_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")
DEMO_HUBS: tuple[tuple[str, str], ...] = (("main", "Main Hub"), ("garage", "Garage Hub"))


class CliError(TilesError):
    """A command failed in a way the user can fix, and the message names the fix."""


# The settings hub, user and token commands read: where the database is, and what the webhook
# URLs they print are built from.
STORAGE_SETTINGS = ("state_dir", "database_url", "hub_timeout_s", "webhook_base_url", "port")
ACCOUNT_SETTINGS = ("state_dir", "database_url", "password_min_length")


def _settings_parent(only: tuple[str, ...] | None = None) -> argparse.ArgumentParser:
    """Build the flags of every setting, or of the ``only`` ones (hub commands need few)."""
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("settings (each also read from its TILES_* variable)")
    group.add_argument(
        "--config", type=Path, metavar="FILE", help="TOML file of settings (keys as below)"
    )
    for spec in SETTINGS:
        if only is not None and spec.name not in only:
            continue
        default = "see above" if spec.default is None else repr(spec.default)
        help_text = f"{spec.help} [{spec.env}; default {default}]"
        if spec.kind is bool:
            group.add_argument(
                spec.flag, action=argparse.BooleanOptionalAction, default=None, help=help_text
            )
        else:
            group.add_argument(
                spec.flag,
                default=None,
                metavar=spec.name.upper(),
                choices=spec.choices,
                help=help_text,
            )
    return parent


def build_parser() -> argparse.ArgumentParser:
    parent = _settings_parent()
    storage_parent = _settings_parent(STORAGE_SETTINGS)
    account_parent = _settings_parent(ACCOUNT_SETTINGS)
    parser = argparse.ArgumentParser(
        prog="tiles-edge",
        description="MOBIUS.TILES Edge: a live tile dashboard for Hubitat Elevation hubs.",
    )
    parser.add_argument("--version", action="version", version=f"tiles-edge {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    commands.add_parser(
        "serve", parents=[parent], help="run the dashboard against the hubs in the database"
    )

    demo = commands.add_parser(
        "demo",
        parents=[parent],
        help="run the dashboard against two simulated hubs on this machine",
        description="Start simulated hubs on loopback and the dashboard on 127.0.0.1:8080, "
        "in a fresh state directory unless --state-dir is given.",
    )
    demo.add_argument(
        "--hub-catalog",
        nargs=3,
        action="append",
        metavar=("ID", "NAME", "FILE"),
        help="simulate a hub from a saved GET /devices/all reply instead of the demo home "
        "(repeatable)",
    )
    demo.add_argument(
        "--no-generator",
        action="store_true",
        help="do not generate background activity (power readings, motion, temperatures)",
    )
    demo.add_argument("--seed", type=int, default=None, help="seed of the activity generator")
    demo.add_argument(
        "--admin-password",
        default=None,
        help="password of the demo's 'admin' account (default: generated and printed)",
    )

    commands.add_parser(
        "settings", parents=[parent], help="print the effective settings (secrets masked)"
    )

    db = commands.add_parser("db", help="back up or restore the SQLite database")
    db_commands = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    db_backup = db_commands.add_parser(
        "backup",
        parents=[storage_parent],
        help="write a consistent copy of the database to FILE (also while the server runs)",
    )
    db_backup.add_argument("file", type=Path, metavar="FILE")
    db_restore = db_commands.add_parser(
        "restore",
        parents=[storage_parent],
        help="replace the database with a backup FILE; stop the server first",
    )
    db_restore.add_argument("file", type=Path, metavar="FILE")

    hub = commands.add_parser("hub", help="manage the hubs stored in the database")
    hub_commands = hub.add_subparsers(dest="hub_command", metavar="ACTION", required=True)
    add = hub_commands.add_parser("add", parents=[storage_parent], help="add or replace a hub")
    add.add_argument("--id", required=True, dest="hub_id", help="short slug, such as 'main'")
    add.add_argument("--name", required=True, help="the hub's name as set on the hub")
    add.add_argument("--host", required=True, help="address or name, optionally with :port")
    add.add_argument("--app-id", required=True, help="the Maker API app's id")
    add.add_argument(
        "--token",
        help="the Maker API access token (default: $TILES_HUB_TOKEN, else asked for)",
    )
    add.add_argument(
        "--transport",
        choices=("eventsocket", "webhook", "poll"),
        default="eventsocket",
        help="how live updates arrive (default: eventsocket)",
    )
    add.add_argument("--order", type=int, default=0, help="position in hub lists")
    hub_commands.add_parser(
        "list", parents=[storage_parent], help="list hubs and their webhook URLs"
    )
    remove = hub_commands.add_parser("remove", parents=[storage_parent], help="remove a hub")
    remove.add_argument("hub_id", metavar="ID")
    test = hub_commands.add_parser(
        "test", parents=[storage_parent], help="check a stored hub's host, app id and token"
    )
    test.add_argument("hub_id", metavar="ID")
    _add_account_commands(commands, account_parent)
    return parser


def _add_account_commands(commands: Any, parent: argparse.ArgumentParser) -> None:
    user = commands.add_parser("user", help="manage the accounts stored in the database")
    actions = user.add_subparsers(dest="user_command", metavar="ACTION", required=True)
    add = actions.add_parser(
        "add",
        parents=[parent],
        help="add a user (password from $TILES_USER_PASSWORD, else asked for)",
    )
    add.add_argument("--admin", action="store_true", help="give the user the admin role")
    add.add_argument("username", metavar="USERNAME")
    actions.add_parser("list", parents=[parent], help="list users")
    for action, text in (
        ("passwd", "set a user's password and end their sessions"),
        ("disable", "disable a user and end their sessions"),
        ("delete", "delete a user with their sessions, tokens and preferences"),
        ("unlock", "let a user throttled after failed sign-ins try again at once"),
    ):
        command = actions.add_parser(action, parents=[parent], help=text)
        command.add_argument("username", metavar="USERNAME")

    token = commands.add_parser("token", help="manage API tokens for scripts")
    token_actions = token.add_subparsers(dest="api_key_action", metavar="ACTION", required=True)
    create = token_actions.add_parser(
        "create", parents=[parent], help="create a token and print it once"
    )
    create.add_argument("--user", required=True, help="the user the token acts as")
    create.add_argument("--name", required=True, help="what the token is for")
    listing = token_actions.add_parser("list", parents=[parent], help="list tokens")
    listing.add_argument("--user", default=None, help="only this user's tokens")
    revoke = token_actions.add_parser("revoke", parents=[parent], help="revoke a token")
    revoke.add_argument("token_id", type=int, metavar="ID")


def _settings_from_args(args: argparse.Namespace, **defaults: Any) -> Settings:
    overrides = {spec.name: getattr(args, spec.name, None) for spec in SETTINGS}
    for name, value in defaults.items():
        flag_value = overrides.get(name)
        env_name = "TILES_" + name.upper()
        if flag_value is None and env_name not in os.environ:
            overrides[name] = value
    return load_settings(overrides, config_file=args.config)


def _configure_logging(level: str) -> None:
    logging.Formatter.converter = time.gmtime
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)sZ %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
        force=True,
    )
    # httpx logs every request URL at INFO, and Maker API URLs carry the access token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return _dispatch(args)
    except (SettingsError, CliError, UserCliError, DbCliError) as err:
        print(f"tiles-edge: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "settings":
        settings = _settings_from_args(args)
        for name, shown, env in describe_settings(settings):
            print(f"{name:<26} {shown:<40} {env}")
        return 0
    if args.command == "serve":
        settings = _settings_from_args(args)
        _configure_logging(settings.log_level)
        asyncio.run(_serve(settings))
        return 0
    if args.command == "demo":
        state_dir = None
        if args.state_dir is None and "TILES_STATE_DIR" not in os.environ:
            state_dir = tempfile.mkdtemp(prefix="tiles-edge-demo-")
        settings = _settings_from_args(
            args,
            host="127.0.0.1",
            state_dir=state_dir,
            discovery_enabled=False,
        )
        _configure_logging(settings.log_level)
        catalogs = [tuple(item) for item in args.hub_catalog or []]
        try:
            asyncio.run(
                _demo(
                    settings,
                    catalogs,
                    generator=not args.no_generator,
                    seed=args.seed,
                    admin_password=args.admin_password,
                )
            )
        finally:
            # A temporary state directory contains only demo data and a secret key.
            if state_dir is not None:
                shutil.rmtree(state_dir, ignore_errors=True)
        return 0
    if args.command == "db":
        from tiles_edge.dbcli import backup_database, resolve_file, restore_database

        settings = _settings_from_args(args)
        logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
        if args.db_command == "backup":
            return asyncio.run(backup_database(settings, resolve_file(args.file, must_exist=False)))
        return asyncio.run(restore_database(settings, resolve_file(args.file, must_exist=True)))
    if args.command == "hub":
        settings = _settings_from_args(args)
        logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
        return asyncio.run(_hub_command(settings, args))
    if args.command in ("user", "token"):
        settings = _settings_from_args(args)
        logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
        return asyncio.run(_account_command(settings, args))
    raise CliError(f"unknown command {args.command!r}")


async def _serve(settings: Settings) -> None:
    from tiles_edge.app import create_app
    from tiles_edge.server import serve

    app = create_app(settings)
    with _listen_errors(settings):
        await serve(app, settings.host, settings.port, shutdown_trigger=_shutdown_signal())


@contextlib.contextmanager
def _listen_errors(settings: Settings) -> Iterator[None]:
    """Turn a failure to open the listening socket into a message naming the fix."""
    try:
        yield
    except OSError as err:
        if err.errno == errno.EADDRINUSE:
            raise CliError(
                f"port {settings.port} on {settings.host} is already in use: stop the other "
                "program or choose another port with --port"
            ) from err
        if err.errno in (errno.EADDRNOTAVAIL, errno.EACCES):
            raise CliError(
                f"cannot listen on {settings.host}:{settings.port} ({err.strerror}): choose an "
                "address of this machine with --host, or a port above 1023 with --port"
            ) from err
        raise


def _shutdown_signal() -> asyncio.Event:
    """Return an event set by SIGINT or SIGTERM, so the server shuts down gracefully."""
    import signal

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    return stop


async def _demo(
    settings: Settings,
    catalogs: list[tuple[Any, ...]],
    *,
    generator: bool,
    seed: int | None,
    admin_password: str | None,
) -> None:
    from tiles_edge.demo import DemoHubSpec, run_demo

    if catalogs:
        specs = [_catalog_spec(hub_id, name, path) for hub_id, name, path in catalogs]
    else:
        specs = [DemoHubSpec(hub_id=hub_id, name=name) for hub_id, name in DEMO_HUBS]
    with _listen_errors(settings):
        await run_demo(
            settings,
            specs,
            generator=generator,
            seed=seed,
            shutdown_trigger=_shutdown_signal(),
            admin_password=admin_password,
        )


def _catalog_spec(hub_id: str, name: str, path: str) -> Any:
    from tiles_edge.demo import DemoHubSpec

    _check_hub_id(hub_id)
    file = Path(path).expanduser()
    if not file.is_file():
        raise CliError(f"--hub-catalog file {file} does not exist")
    return DemoHubSpec(hub_id=hub_id, name=name, catalog_file=file)


def _check_hub_id(hub_id: str) -> None:
    if not HUB_ID_PATTERN.match(hub_id):
        raise CliError(
            f"invalid hub id {hub_id!r}: use 1 to 32 lowercase letters, digits or '-', "
            "starting with a letter or digit"
        )


async def _hub_command(settings: Settings, args: argparse.Namespace) -> int:
    from tiles_edge.hubcli import add_hub, list_hubs, remove_hub, test_hub

    if args.hub_command == "add":
        _check_hub_id(args.hub_id)
        token = args.token or os.environ.get("TILES_HUB_TOKEN")
        if not token:
            token = getpass.getpass("Maker API access token: ")
        if not token.strip():
            raise CliError("the access token is empty: copy it from the Maker API app")
        return await add_hub(
            settings,
            hub_id=args.hub_id,
            name=args.name,
            host=args.host,
            app_id=args.app_id,
            token=token.strip(),
            transport=args.transport,
            order=args.order,
        )
    if args.hub_command == "list":
        return await list_hubs(settings)
    if args.hub_command == "remove":
        return await remove_hub(settings, args.hub_id)
    if args.hub_command == "test":
        return await test_hub(settings, args.hub_id)
    raise CliError(f"unknown hub action {args.hub_command!r}")


async def _account_command(settings: Settings, args: argparse.Namespace) -> int:
    from tiles_edge import usercli

    if args.command == "token":
        if args.api_key_action == "create":
            return await usercli.create_token(settings, args.user, args.name)
        if args.api_key_action == "list":
            return await usercli.list_tokens(settings, args.user)
        if args.api_key_action == "revoke":
            return await usercli.revoke_token(settings, args.token_id)
        raise CliError(f"unknown token action {args.api_key_action!r}")
    action = args.user_command
    if action == "add":
        password = usercli.read_new_password()
        return await usercli.add_user(settings, args.username, password, admin=args.admin)
    if action == "list":
        return await usercli.list_users(settings)
    if action == "passwd":
        await usercli.require_user(settings, args.username)
        password = usercli.read_new_password()
        return await usercli.change_password(settings, args.username, password)
    if action == "disable":
        return await usercli.disable_user(settings, args.username)
    if action == "delete":
        return await usercli.delete_user(settings, args.username)
    if action == "unlock":
        return await usercli.unlock_user(settings, args.username)
    raise CliError(f"unknown user action {action!r}")
