"""The shared command machinery: parser construction, common flags, one entry wrapper.

Every command module defines ``build_parser()`` and ``run(options, streams) -> int`` and
exposes ``main = entry_point(NAME, build_parser, run)``. The wrapper is the only place that
turns errors into messages and exit codes (docs/design.md §3):
0 success; 1 bad input data; 2 usage error; 130 interrupted (SIGINT); 141 downstream closed
the pipe; 143 terminated (SIGTERM). Signals are handled by pattools.interrupts, installed here.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import BinaryIO, TextIO

from pattools import __version__
from pattools.errors import DataError, UsageError

EXIT_OK = 0
EXIT_DATA = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_PIPE = 141
EXIT_TERMINATED = 143
LONG_RUN_SECONDS = 10.0  # a run this long ends with a summary line on a terminal

EXIT_STATUS_TEXT = """\
0    success
1    bad input data (schema, values, framing, missing file); the message names the input,
     the record index (0-based), the field path and what was expected versus found
2    usage error (unknown flag, bad flag value, an output path that cannot be written:
     checked before any work is done)
130  interrupted (Ctrl-C, SIGINT): one line on stderr, no partial file
141  the downstream reader closed the pipe (e.g. | head); nothing is printed
143  terminated (SIGTERM): one line on stderr, no partial file"""


@dataclass
class Streams:
    """Where a command reads and writes; injectable so tests can run commands in-process."""

    stdin: BinaryIO
    stdout: BinaryIO
    stderr: TextIO
    whole_process: bool = False  # the command owns the interpreter (not run in-process by a caller)
    done: tuple[str, int | None, str] | None = None  # set by report(): what the command did

    @classmethod
    def system(cls) -> "Streams":
        from pattools.interrupts import GuardedOutput

        return cls(sys.stdin.buffer, GuardedOutput(sys.stdout.buffer), sys.stderr, whole_process=True)


class PatArgumentParser(argparse.ArgumentParser):
    """argparse with the project's usage-error message (exit code 2)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        sys.exit(EXIT_USAGE)


def make_parser(name: str, summary: str, examples: Sequence[str], notes: str | None = None) -> PatArgumentParser:
    """A parser whose help opens with the summary and examples, then the options."""
    lines = [summary, "", "examples:"]
    lines.extend(f"  {example}" for example in examples)
    if notes:
        lines.extend(["", notes])
    parser = PatArgumentParser(
        prog=name,
        description="\n".join(lines),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="exit status: 0 success, 1 bad input data, 2 usage error, 130 interrupted, "
               "141 downstream closed the pipe, 143 terminated. See man " + name + ".",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s (pattools) {__version__}")
    return parser


def add_inputs(parser: argparse.ArgumentParser, *, help_text: str | None = None) -> None:
    parser.add_argument(
        "inputs", nargs="*", metavar="INPUT", default=["-"],
        help=help_text or "PAT stream (CBOR sequence or JSONL, sniffed), shard file or shard directory; "
                          "'-' or nothing reads stdin",
    )
    add_shard_reading(parser)


def add_shard_reading(parser: argparse.ArgumentParser) -> None:
    """--no-verify and --assume: how shard directories and shard files are read."""
    group = parser.add_argument_group("shard input")
    group.add_argument("--no-verify", dest="verify_checksums", action="store_false", default=True,
                       help="do not verify shard checksums (.sha256) when reading a shard directory "
                            "(verifying costs about 5 %% of reading one; the manifest's other checks stay)")
    group.add_argument("--assume", type=_assume, default={}, metavar="NAME=VALUE,...",
                       help="values the original program's shards do not record, used only where the data lacks "
                            "them: W, H (a lone shard file without its manifest.json), dt, stepsPerFrame "
                            "(default: its exporter's dt 0.03 and 1 step per frame, said on stderr)")


def _assume(text: str) -> dict:
    from pattools.io.shard_reader import parse_assume

    try:
        return parse_assume(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def shard_reading(options: argparse.Namespace, streams: "Streams", name: str):
    """The ShardReading of --no-verify/--assume; its notices go to stderr unless -q."""
    from pattools.io.shard_reading import ShardReading

    return ShardReading(verify=getattr(options, "verify_checksums", True), assume=getattr(options, "assume", {}),
                        notice=lambda message: warn(streams, name, message, options))


def add_format(parser: argparse.ArgumentParser, *, choices: Sequence[str] = ("cbor", "jsonl"),
               tty_default: str | None = "jsonl") -> None:
    text = "output framing (default: cbor"
    if tty_default:
        text += f"; {tty_default} when stdout is a terminal"
    text += ")"
    parser.add_argument("--format", choices=list(choices), default=None, help=text)


def add_validation(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--validate", dest="validate", action="store_true", default=True,
                       help="validate every input record against its schema (default)")
    group.add_argument("--no-validate", dest="validate", action="store_false",
                       help="skip schema validation (framing is still checked)")
    parser.add_argument("--max-record-bytes", type=positive_int, default=256 * 1024 * 1024, metavar="N",
                        help="refuse any input record larger than N bytes (default 256 MiB)")


def add_verbosity(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress or warnings on stderr")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more detail on stderr")


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def finite_float(text: str) -> float:
    """Flag value: any finite number."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def non_negative_float(text: str) -> float:
    """Flag value: a finite number >= 0."""
    value = finite_float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a finite number >= 0, got {text!r}")
    return value


def positive_float(text: str) -> float:
    """Flag value: a finite number > 0."""
    value = finite_float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}")
    return value


def non_negative_int(text: str) -> int:
    """Flag value: an integer >= 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}")
    return value


def output_format(options: argparse.Namespace, streams: Streams, default: str = "cbor") -> str:
    """--format if given; otherwise JSONL on a terminal (binary CBOR would garble it), else default."""
    chosen = getattr(options, "format", None)
    if chosen:
        return chosen
    isatty = getattr(streams.stdout, "isatty", None)
    if isatty is not None and isatty():
        return "jsonl"
    return default


def entry_point(name: str, build_parser: Callable[[], argparse.ArgumentParser],
                run: Callable[[argparse.Namespace, Streams], int]) -> Callable[[Sequence[str] | None], None]:
    """The console-script ``main`` for a command."""

    def main(argv: Sequence[str] | None = None) -> None:
        code = execute(name, build_parser, run, argv, Streams.system())
        from pattools import interrupts

        with interrupts.critical():  # what is buffered is written before the signals are ignored
            _flush_quietly_system()
            interrupts.finishing()
        import gc

        gc.freeze()  # exit without the collector walking numba's objects (about 0.09 s)
        sys.exit(code)

    return main


def execute(name: str, build_parser: Callable[[], argparse.ArgumentParser],
            run: Callable[[argparse.Namespace, Streams], int], argv: Sequence[str] | None,
            streams: Streams) -> int:
    """Parse, run and map every outcome to an exit code; the single exit point of a command."""
    if streams.whole_process:
        from pattools import interrupts

        interrupts.install(name, flush=sys.stdout.buffer.flush)
    parser = build_parser()
    try:
        options = parser.parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    if streams.whole_process:
        from pattools import notices

        notices.configure(name, quiet=bool(getattr(options, "quiet", False)))
    started = time.monotonic()
    try:
        code = run(options, streams)
        streams.stdout.flush()
        _report(name, options, streams, time.monotonic() - started)
        return code
    except DataError as err:
        _flush_quietly(streams)
        streams.stderr.write(f"{name}: {err}\n")
        return EXIT_DATA
    except UsageError as err:
        _flush_quietly(streams)
        streams.stderr.write(f"{name}: error: {err}\n")
        return EXIT_USAGE
    except BrokenPipeError:
        _silence_stdout(streams)
        return EXIT_PIPE
    except MemoryError:  # sizes an input declares (a state's dims, a grid) beyond this machine
        _flush_quietly(streams)
        streams.stderr.write(f"{name}: out of memory: the input declares sizes too large for this machine\n")
        return EXIT_DATA
    except KeyboardInterrupt:
        _flush_quietly(streams)
        streams.stderr.write(f"{name}: interrupted\n")
        return EXIT_INTERRUPTED


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def report(streams: Streams, what: str, count: int | None = None, unit: str = "records") -> None:
    """What the command did ("2 seeds, 64 frames"), and the count its throughput is given in;
    printed at the end with -v, and on a terminal after a long run (unless -q)."""
    streams.done = (what, count, unit)


def _report(name: str, options: argparse.Namespace, streams: Streams, seconds: float) -> None:
    if streams.done is None or getattr(options, "quiet", False):
        return
    isatty = getattr(streams.stderr, "isatty", None)
    long_run = seconds >= LONG_RUN_SECONDS and isatty is not None and isatty()
    if not (getattr(options, "verbose", 0) or long_run):
        return
    what, count, unit = streams.done
    rate = f" ({count / seconds:,.0f} {unit}/s)" if count and seconds > 0 else ""
    streams.stderr.write(f"{name}: {what} in {seconds:.2f} s{rate}\n")


def _flush_quietly_system() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, OSError, ValueError):
            pass


def _flush_quietly(streams: Streams) -> None:
    try:
        streams.stdout.flush()
    except (BrokenPipeError, OSError, ValueError):
        _silence_stdout(streams)


def _silence_stdout(streams: Streams) -> None:
    """After EPIPE, point fd 1 at /dev/null so the interpreter's final flush stays silent."""
    if streams.whole_process or streams.stdout is sys.stdout.buffer:
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
        except OSError:
            pass


def settle_long_lived(streams: Streams) -> None:
    """Tell the cycle collector that everything alive now lives for the whole run (only
    when the command owns the process: in-process callers keep their collector as it is).

    Streaming commands allocate many short-lived containers; each full collection would
    otherwise re-scan whatever large structure was loaded up front (an edit file of
    thousands of targets). Freezing moves those objects out of the collector's view, and a
    larger first-generation threshold makes collections rarer (records rarely form cycles).
    """
    if not streams.whole_process:
        return
    import gc

    gc.freeze()
    gc.set_threshold(20_000, 20, 20)


def warn(streams: Streams, name: str, message: str, options: argparse.Namespace | None = None) -> None:
    """A one-line warning on stderr unless -q."""
    if options is not None and getattr(options, "quiet", False):
        return
    streams.stderr.write(f"{name}: {message}\n")
