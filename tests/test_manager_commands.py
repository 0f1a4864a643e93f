"""HubManager commands: validation before sending, routing to source and twin, modes, HSM."""

from __future__ import annotations

import pytest
from hubharness import running_home

from tiles_edge.errors import ApiError
from tiles_edge.hubs.commands import check_command
from tiles_edge.hubs.model import CommandSpec, Device


async def test_command_goes_to_own_hub() -> None:
    async with running_home() as home:
        result = await home.manager.send_command("main:53", "on", [])
        assert result == {
            "uid": "main:53",
            "hubId": "main",
            "deviceId": "53",
            "command": "on",
            "args": [],
        }
        assert home.sims["main"].command_log == [("53", "on", [])]
        assert home.sims["garage"].command_log == []


async def test_command_returns_after_hub_answered() -> None:
    async with running_home(("main",)) as home:
        sim = home.sims["main"]
        await home.manager.send_command("main:12", "setLevel", [35])
        # The hub has run the command by the time send_command returns.
        assert sim.command_log == [("12", "setLevel", ["35"])]
        assert sim.device("12")["attributes"]["level"] == "35"


async def test_twin_command_goes_to_source_hub() -> None:
    async with running_home() as home:
        result = await home.manager.send_command("garage:1204", "off", [])
        assert result["uid"] == "garage:1204"
        assert result["hubId"] == "main"
        assert result["deviceId"] == "12"
        assert home.sims["main"].command_log == [("12", "off", [])]
        assert home.sims["garage"].command_log == []


async def test_source_hub_down_uses_twin() -> None:
    async with running_home() as home:
        mark = home.reader.mark()
        await home.sims["main"].stop()
        await home.reader.wait_hub("main", "offline", since=mark)

        result = await home.manager.send_command("main:12", "on", [])
        assert result["hubId"] == "garage"
        assert result["deviceId"] == "1204"
        assert home.sims["garage"].command_log == [("1204", "on", [])]
        assert home.manager.device_online(home.manager.get_device("main:12"))


async def test_unknown_command_reaches_no_hub() -> None:
    async with running_home() as home:
        requests_before = {hub_id: list(sim.request_log) for hub_id, sim in home.sims.items()}
        with pytest.raises(ApiError) as caught:
            await home.manager.send_command("main:53", "selfDestruct", [])
        assert caught.value.status == 400
        assert caught.value.code == "unknown_command"
        assert "selfDestruct" in caught.value.message
        for hub_id, sim in home.sims.items():
            assert sim.command_log == []
            new_requests = sim.request_log[len(requests_before[hub_id]) :]
            assert _command_paths_of(new_requests) == []


def _command_paths_of(paths: list[str]) -> list[str]:
    return [p for p in paths if "/devices/" in p and not p.endswith(("/commands", "/events"))]


async def test_missing_argument_rejected() -> None:
    async with running_home(("main",)) as home:
        with pytest.raises(ApiError) as caught:
            await home.manager.send_command("main:12", "setLevel", [])
        assert caught.value.status == 400
        assert caught.value.code == "missing_argument"
        assert "argument 1 of type NUMBER" in caught.value.message
        assert home.sims["main"].command_log == []


async def test_wrong_argument_type_rejected() -> None:
    async with running_home(("main",)) as home:
        with pytest.raises(ApiError) as caught:
            await home.manager.send_command("main:12", "setLevel", ["bright"])
        assert caught.value.code == "invalid_argument"
        assert "argument 1" in caught.value.message
        assert home.sims["main"].command_log == []


async def test_too_many_arguments_rejected() -> None:
    async with running_home(("main",)) as home:
        with pytest.raises(ApiError) as caught:
            await home.manager.send_command("main:53", "on", [1])
        assert caught.value.code == "too_many_arguments"
        assert home.sims["main"].command_log == []


async def test_numeric_string_accepted_for_number() -> None:
    async with running_home(("main",)) as home:
        await home.manager.send_command("main:12", "setLevel", ["40"])
        assert home.sims["main"].command_log == [("12", "setLevel", ["40"])]


async def test_set_color_map_sent_as_json() -> None:
    async with running_home(("main",)) as home:
        color = {"hue": 30, "saturation": 90, "level": 60}
        await home.manager.send_command("main:47", "setColor", [color])
        assert home.sims["main"].command_log == [
            ("47", "setColor", ['{"hue":30,"saturation":90,"level":60}'])
        ]
        with pytest.raises(ApiError) as caught:
            await home.manager.send_command("main:47", "setColor", ["red"])
        assert caught.value.code == "invalid_argument"


async def test_hub_failure_becomes_api_error() -> None:
    async with running_home(("main",)) as home:
        sim = home.sims["main"]
        await home.manager.send_command("main:53", "on", [])
        sim.faults.error_status = 500
        with pytest.raises(ApiError) as caught:
            await home.manager.send_command("main:53", "off", [])
        assert caught.value.status == 502
        assert "HTTP 500" in caught.value.message
        assert sim.token not in caught.value.message


async def test_hub_timeout_becomes_504() -> None:
    async with running_home(("main",), hub_timeout_s=0.3) as home:
        sim = home.sims["main"]
        await home.manager.send_command("main:53", "on", [])
        sim.faults.hang = True
        try:
            with pytest.raises(ApiError) as caught:
                await home.manager.send_command("main:53", "off", [])
        finally:
            sim.faults.hang = False
        assert caught.value.status == 504
        assert caught.value.code == "hub_timeout"


async def test_unknown_uid_rejected() -> None:
    async with running_home(("main",)) as home:
        with pytest.raises(ApiError) as caught:
            await home.manager.send_command("main:4242", "on", [])
        assert caught.value.status == 404
        assert caught.value.code == "device_not_found"


# Modes and HSM.


async def test_set_mode_by_id() -> None:
    async with running_home(("main",)) as home:
        modes = home.manager.modes()["main"]
        night = next(m for m in modes if m["name"] == "Night")
        result = await home.manager.set_mode("main", str(night["id"]))
        assert result["hubId"] == "main"
        assert result["active"] == "Night"


async def test_set_mode_unknown_id_rejected() -> None:
    async with running_home(("main",)) as home:
        sim = home.sims["main"]
        before = len(sim.request_log)
        with pytest.raises(ApiError) as caught:
            await home.manager.set_mode("main", "77")
        assert caught.value.code == "unknown_mode"
        assert "Night" in caught.value.message
        assert len(sim.request_log) == before


async def test_set_mode_unknown_hub() -> None:
    async with running_home(("main",)) as home:
        with pytest.raises(ApiError) as caught:
            await home.manager.set_mode("attic", "1")
        assert caught.value.status == 404
        assert caught.value.code == "hub_not_found"


async def test_set_hsm_action() -> None:
    async with running_home(("main",)) as home:
        result = await home.manager.set_hsm("main", "armAway")
        assert result["status"] == "armedAway"
        assert home.manager.hsm()["main"] == "armedAway"


async def test_set_hsm_unknown_action_rejected() -> None:
    async with running_home(("main",)) as home:
        sim = home.sims["main"]
        before = len(sim.request_log)
        with pytest.raises(ApiError) as caught:
            await home.manager.set_hsm("main", "armEverything")
        assert caught.value.code == "unknown_hsm_action"
        assert len(sim.request_log) == before


async def test_modes_not_allowed_keep_hub_online() -> None:
    sims = {"main": {"modes_enabled": False, "hsm_enabled": False}}
    async with running_home(("main",), sim_kwargs=sims) as home:
        assert home.manager.modes() == {}
        assert home.manager.hsm() == {}
        assert [h.state for h in home.manager.health()] == ["online"]
        with pytest.raises(ApiError) as caught:
            await home.manager.set_hsm("main", "disarm")
        assert caught.value.status == 502
        assert "HSM access is not enabled" in caught.value.message


# check_command as a pure function.


def _device(commands: dict[str, CommandSpec]) -> Device:
    return Device(
        hub_id="main",
        device_id="5",
        name="Thing",
        label="Thing",
        raw_label="Thing",
        type="Virtual",
        room=None,
        capabilities=[],
        attributes={},
        commands=commands,
    )


@pytest.mark.parametrize(
    ("arg_types", "args", "code"),
    [
        (["NUMBER"], [True], "invalid_argument"),
        (["NUMBER"], [float("nan")], "invalid_argument"),
        (["NUMBER"], ["12abc"], "invalid_argument"),
        (["ENUM"], [3], "invalid_argument"),
        (["STRING"], [{"a": 1}], "invalid_argument"),
        (["JSON_OBJECT"], [[1, 2]], "invalid_argument"),
        (["NUMBER", "NUMBER"], [None, 5], "missing_argument"),
    ],
)
def test_check_command_rejects(arg_types: list[str], args: list[object], code: str) -> None:
    device = _device({"run": CommandSpec("run", arg_types, arg_types_known=True)})
    with pytest.raises(ApiError) as caught:
        check_command(device, "run", list(args))
    assert caught.value.code == code


@pytest.mark.parametrize(
    ("arg_types", "args", "expected"),
    [
        (["NUMBER", "NUMBER"], [50], [50]),
        (["NUMBER"], ["-2.5"], ["-2.5"]),
        (["ENUM"], ["low"], ["low"]),
        (["COLOR_MAP"], [{"hue": 3}], [{"hue": 3}]),
        (["NUMBER", "NUMBER"], [50, None], [50]),
        (["DATE"], ["2026-12-04"], ["2026-12-04"]),
    ],
)
def test_check_command_accepts(
    arg_types: list[str], args: list[object], expected: list[object]
) -> None:
    device = _device({"run": CommandSpec("run", arg_types, arg_types_known=True)})
    assert check_command(device, "run", list(args)) == expected


def test_check_command_unknown_types_pass_scalars() -> None:
    device = _device({"run": CommandSpec("run")})
    assert check_command(device, "run", ["a", 1, {"b": 2}]) == ["a", 1, {"b": 2}]
    with pytest.raises(ApiError):
        check_command(device, "run", [[1]])
