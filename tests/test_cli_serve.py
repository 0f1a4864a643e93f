"""``tiles-edge serve`` failures a user can fix get one line naming the fix."""

from __future__ import annotations

import socket

from tiles_edge.cli import main


def test_serve_on_taken_port_says_how(tmp_path, capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code = main(
            ["serve", "--host", "127.0.0.1", "--port", str(port), "--state-dir", str(tmp_path),
             "--no-discovery-enabled"]
        )  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err
    assert f"port {port} on 127.0.0.1 is already in use" in err
    assert "Traceback" not in err
