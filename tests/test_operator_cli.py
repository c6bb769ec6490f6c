"""The operator's way in: every bad config key, flag or MOCKSERVER_* value stops `mockserver
serve` with exit status 2 and one line naming the problem (never a traceback); the port is
bound before the banner; `--help` shows examples and each flag's variable."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from mockserver.cli import _parser, main
from mockserver.testing import free_port

SERVE = [sys.executable, "-m", "mockserver", "serve"]
BASE_ENV = {k: v for k, v in os.environ.items() if not k.startswith("MOCKSERVER_")}


@pytest.fixture
def refused(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
            tmp_path: Path) -> Callable[..., str]:
    """`mockserver serve ARGS` in this process (these mistakes stop it before it configures
    logging or binds): it must exit with status 2 and one stderr line, which is returned."""

    def run(args: list[str], env: dict[str, str] | None = None) -> str:
        for name in [k for k in os.environ if k.startswith("MOCKSERVER_")]:
            monkeypatch.delenv(name)
        for name, value in (env or {}).items():
            monkeypatch.setenv(name, value)
        monkeypatch.chdir(tmp_path)
        with pytest.raises(SystemExit) as stopped:
            main(["serve", *args])
        out, err = capsys.readouterr()
        assert stopped.value.code == 2, (stopped.value.code, out, err)
        assert "listening on" not in out and "Traceback" not in err
        lines = err.strip().splitlines()
        assert len(lines) == 1, err
        return lines[0]

    return run


def serve_fails(args: list[str], env: dict[str, str] | None = None, cwd: Path | None = None,
                prefix: list[str] | None = None) -> str:
    """Run `mockserver serve ARGS`; it must stop with status 2 and one stderr line (returned)."""
    done = subprocess.run([*(prefix or []), *SERVE, *args], capture_output=True, text=True,
                          timeout=60, env={**BASE_ENV, **(env or {})}, cwd=cwd)
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    assert "listening on" not in done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


BAD_CONFIGS = {
    "misspelt section": ("[srever]\nport = 1\n", ["[srever]", "did you mean [server]?",
                                                 "[vendors.<name>]"]),
    "misspelt vendor": ("[vendors.dashcope]\nrun_seconds = 1\n",
                        ["[vendors.dashcope]", "did you mean dashscope?", "tencent"]),
    "misspelt option": ("[vendors.dashscope]\nrun_secs = 1\n",
                        ["[vendors.dashscope]", "'run_secs'", "did you mean run_seconds?",
                         "queue_seconds"]),
    "wrong option type": ('[vendors.dashscope]\nrun_seconds = "five"\n',
                          ["[vendors.dashscope] run_seconds", '"five"', "must be a finite number"]),
    "port as a string": ('[server]\nport = "19742"\n',
                         ["[server] port", '"19742"', "an integer from 0 to 65535"]),
    "misspelt server key": ("[server]\ntime_scael = 2.0\n",
                            ["[server]", "'time_scael'", "did you mean time_scale?"]),
    "time scale zero": ("[server]\ntime_scale = 0\n", ["[server] time_scale", "greater than 0"]),
    "time scale nan": ("[server]\ntime_scale = nan\n", ["[server] time_scale", "finite"]),
    "key outside a table": ("run_secs = 3\n", ["run_secs", "outside any table", "[server]"]),
    "option choice": ('[vendors.tencent]\nskew_clock = "sun"\n',
                      ["[vendors.tencent] skew_clock", "either, mock, wall"]),
    "fault vendor": ('[[faults]]\nvendor = "dashcope"\neffect = "drop"\n',
                     ["[[faults]] entry 1", "vendor", "dashscope"]),
    "fault code": ('[[faults]]\nvendor = "dashscope"\neffect = "error"\ncode = "Nope"\n',
                   ["[[faults]] entry 1", "'Nope' is not a dashscope error code"]),
    "auth table of a bearer vendor": ('[auth.dashscope]\nkey = "x"\n',
                                      ["[auth]", "'dashscope'", "keys, tencent"]),
    "not TOML": ("[server\n", ["not valid TOML", "line 1"]),
}


@pytest.mark.parametrize("name", BAD_CONFIGS)
def test_a_bad_config_file_is_one_line_naming_file_key_and_what_is_allowed(
        name: str, tmp_path: Path, refused: Callable[..., str]) -> None:
    text, wanted = BAD_CONFIGS[name]
    config = tmp_path / "mock.toml"
    config.write_text(text, encoding="utf-8")
    line = refused(["--config", str(config), "--store", "memory"])
    assert str(config) in line
    for part in wanted:
        assert part in line, (part, line)


def test_the_config_file_named_by_the_variable_is_checked_too(tmp_path: Path) -> None:
    """In a real process, as an operator runs it."""
    config = tmp_path / "env.toml"
    config.write_text("[vendors.dashscope]\nrun_secs = 1\n")
    line = serve_fails(["--store", "memory"], env={"MOCKSERVER_CONFIG": str(config)})
    assert str(config) in line and "did you mean run_seconds?" in line


def test_a_missing_config_file(tmp_path: Path, refused: Callable[..., str]) -> None:
    line = refused(["--config", str(tmp_path / "nowhere.toml")])
    assert "nowhere.toml" in line and "no such file" in line


BAD_VALUES = {
    "time scale zero": (["--time-scale", "0"], {}, ["--time-scale", "greater than 0"]),
    "time scale negative": (["--time-scale", "-2"], {}, ["--time-scale", "greater than 0"]),
    "time scale nan": (["--time-scale", "nan"], {}, ["--time-scale", "finite"]),
    "time scale text": (["--time-scale", "fast"], {}, ["--time-scale", "'fast'"]),
    "env time scale": ([], {"MOCKSERVER_TIME_SCALE": "0"}, ["MOCKSERVER_TIME_SCALE=0"]),
    "env time scale text": ([], {"MOCKSERVER_TIME_SCALE": "fast"},
                            ["MOCKSERVER_TIME_SCALE=fast", "a number"]),
    "unknown store": (["--store", "mongodb://localhost"], {},
                      ["--store mongodb://localhost", "'memory', 'sqlite:PATH' or 'redis://"]),
    "env unknown store": ([], {"MOCKSERVER_STORE": "postgres:x"},
                          ["MOCKSERVER_STORE=postgres:x", "'memory', 'sqlite:PATH' or 'redis://"]),
    "log level": (["--log-level", "verbose"], {}, ["--log-level verbose", "debug"]),
    "env log level": ([], {"MOCKSERVER_LOG_LEVEL": "loud"}, ["MOCKSERVER_LOG_LEVEL=loud"]),
    "log format": (["--log-format", "xml"], {}, ["--log-format xml", "text, json"]),
    "port too high": (["--port", "70000"], {}, ["--port 70000", "from 0 to 65535"]),
    "port negative": (["--port", "-1"], {}, ["--port -1", "from 0 to 65535"]),
    "env port text": ([], {"MOCKSERVER_PORT": "eighty"}, ["MOCKSERVER_PORT=eighty", "integer"]),
    "env port too high": ([], {"MOCKSERVER_PORT": "65536"}, ["MOCKSERVER_PORT=65536"]),
    "env boolean": ([], {"MOCKSERVER_STRICT_AUTH": "maybe"},
                    ["MOCKSERVER_STRICT_AUTH=maybe", "true, false"]),
    "unknown flag": (["--time-scael", "2"], {}, ["--time-scael", "--help"]),
}


@pytest.mark.parametrize("name", BAD_VALUES)
def test_a_bad_flag_or_variable_is_one_line(name: str, refused: Callable[..., str]) -> None:
    args, env, wanted = BAD_VALUES[name]
    line = refused(args, env=env)
    for part in wanted:
        assert part in line, (part, line)


def test_sqlite_path_that_is_not_a_database(tmp_path: Path) -> None:
    """In a real process: the store is the last check before the server binds."""
    text = tmp_path / "notes.txt"
    text.write_text("not a database\n")
    line = serve_fails(["--store", f"sqlite:{text}"])
    assert f"--store sqlite:{text}" in line and "not an SQLite database" in line


def test_sqlite_path_under_a_file(tmp_path: Path, refused: Callable[..., str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    line = refused([], env={"MOCKSERVER_STORE": f"sqlite:{blocker}/data/mock.db"})
    assert "MOCKSERVER_STORE" in line and "is a file" in line


def test_sqlite_path_that_is_a_directory(tmp_path: Path, refused: Callable[..., str]) -> None:
    line = refused(["--store", f"sqlite:{tmp_path}"])
    assert "is a directory" in line


def as_unprivileged() -> list[str]:
    """A prefix that runs a command without root's power to write anywhere (the container's
    non-root user); empty when we are not root."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: cannot drop the right to write anywhere")
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--"]


def test_an_unwritable_data_volume_is_a_message_not_a_sqlite_traceback(tmp_path: Path) -> None:
    volume = tmp_path / "data"  # like the image's /data when the volume belongs to root
    volume.mkdir()
    volume.chmod(0o555)
    try:
        line = serve_fails([], env={"MOCKSERVER_STORE": f"sqlite:{volume}/mockserver.db"},
                           prefix=as_unprivileged())
    finally:
        volume.chmod(0o755)
    assert f"MOCKSERVER_STORE=sqlite:{volume}/mockserver.db" in line
    assert "not writable" in line


def test_a_store_the_checks_let_through_still_fails_in_one_line(tmp_path: Path) -> None:
    """/proc takes no new files, whatever access() says: SQLite's own error, in one line."""
    line = serve_fails(["--store", "sqlite:/proc/portrait-mockserver/mockserver.db"])
    assert "cannot open the store" in line or "not writable" in line


def test_a_busy_port_stops_before_any_banner() -> None:
    port = free_port()
    with socket.create_server(("127.0.0.1", port)):
        line = serve_fails(["--port", str(port), "--store", "memory"])
    assert f"port {port} is in use" in line


def test_help_shows_examples_and_the_variable_of_every_flag() -> None:
    done = subprocess.run([*SERVE, "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    assert "examples:" in done.stdout and "mockserver serve --port 9000" in done.stdout
    serve = _parser()._subparsers._group_actions[0].choices["serve"]  # type: ignore[union-attr]
    for action in serve._actions:
        if action.dest == "help":
            continue
        assert action.help and ("MOCKSERVER_" in action.help), action.option_strings


def test_config_command_checks_without_starting_and_prints_the_schema(tmp_path: Path) -> None:
    good = tmp_path / "good.toml"
    good.write_text("[vendors.dashscope]\nrun_seconds = 5\n")
    cli = [sys.executable, "-m", "mockserver", "config"]
    ok = subprocess.run([*cli, "--config", str(good)], capture_output=True, text=True,
                        timeout=60, env=BASE_ENV, cwd=tmp_path)
    assert ok.returncode == 0 and "ok:" in ok.stdout and "dashscope" in ok.stdout
    good.write_text("[vendors.dashscope]\nrun_secs = 5\n")
    bad = subprocess.run([*cli, "--config", str(good)], capture_output=True, text=True,
                         timeout=60, env=BASE_ENV, cwd=tmp_path)
    assert bad.returncode == 2 and "did you mean run_seconds?" in bad.stderr
    schema = subprocess.run([*cli, "--schema"], capture_output=True, text=True, timeout=60)
    assert schema.returncode == 0 and '"[vendors.<name>]"' not in schema.stdout
    assert '"run_seconds"' in schema.stdout
