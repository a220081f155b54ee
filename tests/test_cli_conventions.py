"""Behaviour every command shares: help, version, usage errors, pipes, empty input, imports."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time

import pytest

from pattools.cli.commands import COMMANDS
from pattools.io import cbor as pcbor
from tests.helpers import BIN, ROOT, command_env, make_frame, run, shell

EXISTING = [info for info in COMMANDS if importlib.util.find_spec(info.module) is not None]


@pytest.mark.parametrize("info", EXISTING, ids=lambda info: info.name)
def test_help_opens_with_examples_and_exits_0(info):
    result = run(info.name, "--help")
    assert result.returncode == 0
    text = result.stdout.decode()
    assert text.index("examples:") < text.index("options:")
    assert result.stderr == b""


@pytest.mark.parametrize("info", EXISTING, ids=lambda info: info.name)
def test_bad_flag_is_usage_error_2(info):
    result = run(info.name, "--no-such-flag")
    assert result.returncode == 2
    assert b"Traceback" not in result.stderr
    assert info.name.encode() in result.stderr


@pytest.mark.parametrize("info", EXISTING, ids=lambda info: info.name)
def test_version(info):
    result = run(info.name, "--version")
    assert result.returncode == 0 and b"pattools" in result.stdout


def test_pat_cat_help_is_fast():
    env = command_env()
    best = min(_timed([sys.executable, "-m", "pattools.cli", "pat-cat", "--help"], env) for _ in range(3))
    assert best <= 0.25, f"pat-cat --help took {best:.3f}s"


def _timed(argv, env) -> float:
    start = time.perf_counter()
    subprocess.run(argv, capture_output=True, env=env, check=True, cwd=ROOT)
    return time.perf_counter() - start


def test_cat_does_not_import_numba():
    code = "import sys, pattools.cli.cat, pattools.cli.base; print('numba' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, env=command_env(), cwd=ROOT, check=True)
    assert out.stdout.strip() == b"False"


def test_reading_a_file_loads_no_shard_reader(tmp_path):
    """Start-up: the shard directory reader (checksums, manifests) loads only where a shard
    is met; reading a plain record file does not import it."""
    path = tmp_path / "frame.cbor"
    path.write_bytes(pcbor.encode(make_frame()))
    code = ("import sys; from pattools.io import read_records\n"
            f"records = list(read_records([{str(path)!r}]))\n"
            "print(len(records), 'pattools.io.shard_reader' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, env=command_env(), cwd=ROOT, check=True)
    assert out.stdout.split() == [b"1", b"False"]


def test_cat_empty_stdin_is_silent_success():
    result = run("pat-cat", input=b"")
    assert (result.returncode, result.stdout, result.stderr) == (0, b"", b"")


def test_cat_dash_reads_stdin():
    data = pcbor.encode(make_frame())
    result = run("pat-cat", "-", input=data)
    assert result.returncode == 0 and result.stdout == data


def test_closed_pipe_exits_141_without_noise(tmp_path):
    big = tmp_path / "big.cbor"
    frame = make_frame(W=256, H=256, scale=16)
    big.write_bytes(pcbor.encode(frame) * 400)
    result = shell(f"pat-cat --format jsonl {big} | head -c 10; echo \"${{PIPESTATUS[0]}}\" >&2")
    assert result.stdout[:10] == b'{"kind":"P'[:10] or len(result.stdout) == 10
    assert result.stderr.decode().strip() == "141"


def test_missing_file_is_data_error(tmp_path):
    result = run("pat-cat", str(tmp_path / "nope.cbor"))
    assert result.returncode == 1
    assert result.stderr.decode() == f"pat-cat: {tmp_path / 'nope.cbor'}: no such file or directory\n"


def test_wrong_framing_is_data_error():
    result = run("pat-cat", input=b"hello")
    assert result.returncode == 1
    assert result.stderr.decode().startswith("pat-cat: <stdin>: record 0: expected a CBOR sequence")


def test_error_after_output_keeps_complete_records_and_exits_1():
    good = pcbor.encode(make_frame(frame=0))
    result = run("pat-cat", input=good + good[:-5])
    assert result.returncode == 1
    assert result.stdout == good
    assert b"truncated final item" in result.stderr and b"Traceback" not in result.stderr


@pytest.mark.parametrize("argv0, handled", [("/usr/local/bin/pat-export", True), ("/usr/bin/nupca-step", True),
                                            ("/usr/bin/python-tool", False)])
def test_installed_commands_handle_ctrl_c_from_their_first_import(argv0, handled):
    """An installed command's script imports pattools.cli first: from then on a Ctrl-C,
    even one that arrives while the command is still importing its modules, exits 130
    with one line; a program that only imports pattools (the Python API) keeps Python's
    own handling."""
    code = (f"import sys; sys.argv[0] = {argv0!r}; import pattools.cli, os, signal, time; "
            "os.kill(os.getpid(), signal.SIGINT); time.sleep(10)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, env=command_env(), timeout=60,
                            preexec_fn=lambda: __import__("signal").signal(2, __import__("signal").SIG_DFL))
    if handled:
        name = os.path.basename(argv0)
        assert (result.returncode, result.stderr.decode()) == (130, f"{name}: interrupted\n")
    else:
        assert result.returncode != 130 and b"KeyboardInterrupt" in result.stderr


def test_interrupt_exits_130(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    proc = subprocess.Popen([str(BIN / "pat-cat"), str(fifo)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=command_env())
    writer = open(fifo, "wb")
    time.sleep(1.0)
    proc.send_signal(2)
    out, err = proc.communicate(timeout=30)
    writer.close()
    assert proc.returncode == 130
    assert b"Traceback" not in err
