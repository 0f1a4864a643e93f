from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from tiles_edge.cli import build_parser, main
from tiles_edge.config import (
    SETTINGS,
    Settings,
    SettingsError,
    describe_settings,
    load_settings,
)


def test_every_setting_has_help() -> None:
    missing = [spec.name for spec in SETTINGS if len(spec.help.strip()) < 15]
    assert missing == []


def test_settings_table_matches_dataclass() -> None:
    fields = {field.name for field in dataclasses.fields(Settings)}
    assert fields == {spec.name for spec in SETTINGS}


def test_table_defaults_match_dataclass() -> None:
    defaults = Settings()
    for spec in SETTINGS:
        if spec.default is not None:
            assert getattr(defaults, spec.name) == spec.default, spec.name


def test_time_and_size_names_carry_units() -> None:
    for spec in SETTINGS:
        if spec.kind is float:
            assert spec.name.endswith(("_s", "_ms")), spec.name


def test_every_setting_has_a_cli_flag() -> None:
    help_text = build_parser()._subparsers._group_actions[0].choices["serve"].format_help()  # type: ignore[union-attr]
    for spec in SETTINGS:
        assert spec.flag in help_text, spec.name


def test_precedence_file_env_flag(tmp_path: Path) -> None:
    config = tmp_path / "tiles.toml"
    config.write_text('port = 9001\ntemperature_scale = "C"\nhub_timeout_s = 3\n')

    from_file = load_settings(config_file=config, environ={})
    assert from_file.port == 9001
    assert from_file.temperature_scale == "C"
    assert from_file.hub_timeout_s == 3.0

    from_env = load_settings(config_file=config, environ={"TILES_PORT": "9002"})
    assert from_env.port == 9002

    from_flag = load_settings({"port": "9003"}, config_file=config, environ={"TILES_PORT": "9002"})
    assert from_flag.port == 9003


def test_bad_value_names_setting_and_origin() -> None:
    with pytest.raises(SettingsError, match=r"port from \$TILES_PORT: expected a whole number"):
        load_settings(environ={"TILES_PORT": "eighty"})


def test_bad_choice_lists_choices() -> None:
    with pytest.raises(SettingsError, match="choose one of F, C"):
        load_settings({"temperature_scale": "K"}, environ={})


def test_below_minimum_rejected() -> None:
    with pytest.raises(SettingsError, match=r"sse_queue_size .* at least 8"):
        load_settings({"sse_queue_size": "2"}, environ={})


def test_bool_words_accepted() -> None:
    assert load_settings(environ={"TILES_DISCOVERY_ENABLED": "off"}).discovery_enabled is False
    assert load_settings(environ={"TILES_DISCOVERY_ENABLED": "yes"}).discovery_enabled is True
    with pytest.raises(SettingsError, match="discovery_enabled"):
        load_settings(environ={"TILES_DISCOVERY_ENABLED": "maybe"})


def test_unknown_config_key_rejected(tmp_path: Path) -> None:
    config = tmp_path / "tiles.toml"
    config.write_text("prot = 80\n")
    with pytest.raises(SettingsError, match=r"unknown setting.*prot"):
        load_settings(config_file=config, environ={})


def test_invalid_toml_rejected(tmp_path: Path) -> None:
    config = tmp_path / "tiles.toml"
    config.write_text("port = = 1\n")
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_settings(config_file=config, environ={})


def test_describe_masks_secrets() -> None:
    settings = Settings(
        api_token="tiles_supersecretvalue",
        database_url="postgresql://tiles:hunter2pass@db.local/tiles",
    )
    shown = {name: value for name, value, _ in describe_settings(settings)}
    assert "supersecret" not in shown["api_token"]
    assert "hunter2pass" not in shown["database_url"]
    assert shown["database_url"].startswith("postgresql://tiles:")


def test_settings_command_prints_effective_values(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TILES_API_TOKEN", "tiles_abcdefsecret")
    assert main(["settings", "--port", "8123"]) == 0
    out = capsys.readouterr().out
    assert "8123" in out
    assert "abcdefsecret" not in out
    assert "TILES_HUB_TIMEOUT_S" in out


def test_settings_command_reports_bad_value(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["settings", "--port", "0"]) == 2
    assert "port" in capsys.readouterr().err


def test_version_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.startswith("tiles-edge ")
