"""The path one frame takes through pat-apply and pat-replay: which pattools functions and
modules it passes, and the layers it crosses, stdin to stdout.

Each command runs in this process on one exported frame (96x96, scale 32; --quick: 32x32,
scale 16) with its edit, under ``sys.setprofile``: every call of a pattools function made
by the command's ``run`` (argument parsing excluded) is recorded. Printed per command: the
number of distinct functions and modules, the layers in the order the calls enter them
(consecutive calls in one layer merged; a layer is the first package below pattools, or
the module for top-level ones), and with --verbose every function in first-call order.
Imports are done before profiling, so module bodies do not count.

Run: .venv/bin/python bench/frame_path.py [--quick] [--verbose]
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pattools.cli import apply as apply_cli  # noqa: E402
from pattools.cli import base  # noqa: E402
from pattools.cli import baseline as baseline_cli  # noqa: E402
from pattools.cli import export as export_cli  # noqa: E402
from pattools.cli import replay as replay_cli  # noqa: E402

PACKAGE = str(Path(__file__).resolve().parent.parent / "pattools")


def run(module, argv: list[str], stdin: bytes) -> bytes:
    out, err = io.BytesIO(), io.StringIO()
    code = base.execute(module.NAME, module.build_parser, module.run, argv, base.Streams(io.BytesIO(stdin), out, err))
    if code != 0:
        raise SystemExit(f"{module.NAME} failed: {err.getvalue()}")
    return out.getvalue()


def _module_of(filename: str) -> str:
    """The module name of a pattools file (for code run without module globals: kernels)."""
    relative = Path(filename).relative_to(Path(PACKAGE).parent).with_suffix("")
    return ".".join(relative.parts)


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 else parts[-1]


def trace(module, argv: list[str], stdin: bytes) -> list[tuple[str, str]]:
    """(module, function) of every pattools call made by the command's run(), in order."""
    calls: list[tuple[str, str]] = []
    inside = [False]
    real_run = module.run

    def profiled_run(options, streams):
        inside[0] = True
        try:
            return real_run(options, streams)
        finally:
            inside[0] = False

    def profile(frame, event, _arg):
        if event != "call" or not inside[0]:
            return
        code = frame.f_code
        if code.co_filename.startswith(PACKAGE):
            name = frame.f_globals.get("__name__") or _module_of(code.co_filename)
            calls.append((name, code.co_qualname))

    out, err = io.BytesIO(), io.StringIO()
    sys.setprofile(profile)
    try:
        code = base.execute(module.NAME, module.build_parser, profiled_run, argv,
                            base.Streams(io.BytesIO(stdin), out, err))
    finally:
        sys.setprofile(None)
    if code != 0:
        raise SystemExit(f"{module.NAME} failed: {err.getvalue()}")
    return calls


def report(title: str, calls: list[tuple[str, str]], verbose: bool) -> None:
    functions = list(dict.fromkeys(calls))
    modules = list(dict.fromkeys(module for module, _ in calls))
    layers: list[str] = []
    for module, _ in calls:
        layer = _layer(module)
        if not layers or layers[-1] != layer:
            layers.append(layer)
    print(f"{title}: {len(calls)} calls of {len(functions)} functions in {len(modules)} modules")
    print("  layers: " + " -> ".join(layers))
    if verbose:
        for module, function in functions:
            print(f"    {module}.{function}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a 32x32 frame at scale 16")
    parser.add_argument("--verbose", action="store_true", help="list every function in first-call order")
    options = parser.parse_args()
    grid = ["--W", "32", "--H", "32", "--scale", "16"] if options.quick else ["--W", "96", "--H", "96", "--scale", "32"]
    frame = run(export_cli, ["--seeds", "7", "--frames", "1", *grid], b"")
    edit = run(baseline_cli, ["--prompt", "increase coherence on rim", "-"], frame)
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        edit_path = Path(tmp) / "edit.cbor"
        edit_path.write_bytes(edit)
        for module, argv in ((apply_cli, ["--edit", str(edit_path)]), (replay_cli, []),
                             (replay_cli, ["--edit", str(edit_path)])):
            run(module, argv, frame)  # imports and caches first: only the frame's calls are traced
            stdin = frame if module is apply_cli or argv else run(apply_cli, ["--edit", str(edit_path)], frame)
            title = f"{module.NAME} {' '.join(argv)}".replace(str(edit_path), "edit.cbor").strip()
            if module is replay_cli and not argv:
                title = "pat-apply --edit edit.cbor | pat-replay (the replay)"
            report(title, trace(module, argv, stdin), options.verbose)


if __name__ == "__main__":
    main()
