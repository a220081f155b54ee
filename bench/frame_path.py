"""The path one frame takes through pat-apply and pat-replay: which pattools functions and
modules it passes, and the layers it crosses, stdin to stdout.

Each command runs in this process on one exported frame (96x96, scale 32; --quick: 32x32,
scale 16) with its edit, under ``sys.setprofile``: every call of a pattools function made
by the command's ``run`` (argument parsing excluded) is recorded. Printed per command: the
number of distinct functions and modules, the layers in the order the calls enter them
(consecutive calls in one layer merged; a layer is the first package below pattools, or
the module for top-level ones), and with --verbose every function in first-call order.
Imports are done before profiling, so module bodies do not count.

Two views read the flat layer list as the design means it (stdin -> io -> domain -> io ->
stdout): ``path``, the calls the command module itself makes into other layers, in order
(its straight line); and ``upward``, the calls a lower layer makes into a higher one
(kernels < tokens, schema, io < lattice < simulation < domain < composition < cli), which
a straight line has none of; a domain module calling io is listed apart.

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


# Layer ranks for the ``upward`` view; layers not named (errors, notices, collector, ...)
# are utilities any layer may call.
RANKS = {
    "kernels": 0, "tokens": 1, "schema": 1, "io": 1, "lattice": 2, "simulation": 3,
    "edit": 4, "replay": 4, "score": 4, "diff": 4, "render": 4, "nupca": 4, "summary": 4,
    "edited_replay": 5, "exporting": 5, "cli": 6, "api": 6,
}
DOMAIN = {"edit", "replay", "score", "diff", "render", "nupca", "summary", "lattice", "simulation", "tokens"}


def trace(module, argv: list[str], stdin: bytes) -> list[tuple[str, str, str]]:
    """(module, function, caller module) of every pattools call made by the command's run(), in order."""
    calls: list[tuple[str, str, str]] = []
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
            caller = frame.f_back
            while caller is not None and not caller.f_code.co_filename.startswith(PACKAGE):
                caller = caller.f_back  # through the standard library (itertools, contextlib, ...)
            calling = "" if caller is None else (caller.f_globals.get("__name__")
                                                 or _module_of(caller.f_code.co_filename))
            calls.append((name, code.co_qualname, calling))

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


def report(title: str, command: str, calls: list[tuple[str, str, str]], verbose: bool) -> None:
    functions = list(dict.fromkeys((module, function) for module, function, _ in calls))
    modules = list(dict.fromkeys(module for module, _, _ in calls))
    layers: list[str] = []
    for module, _, _ in calls:
        layer = _layer(module)
        if not layers or layers[-1] != layer:
            layers.append(layer)
    print(f"{title}: {len(calls)} calls of {len(functions)} functions in {len(modules)} modules")
    print("  layers: " + " -> ".join(layers))
    path: list[str] = []
    for module, function, caller in calls:
        if caller == command and _layer(module) != "cli":
            step = f"{_layer(module)}:{function}"
            if not path or path[-1] != step:
                path.append(step)
    print("  path: stdin -> " + " -> ".join(path) + " -> stdout")
    upward = [(caller, f"{module}.{function}") for module, function, caller in calls
              if caller and _layer(module) in RANKS and _layer(caller) in RANKS
              and RANKS[_layer(module)] > RANKS[_layer(caller)]]
    to_io = [(caller, f"{module}.{function}") for module, function, caller in calls
             if _layer(module) == "io" and _layer(caller) in DOMAIN]
    for label, found in (("upward", upward), ("domain -> io", to_io)):
        distinct = list(dict.fromkeys(found))
        print(f"  {label}: {len(found)} calls" + "".join(f"\n    {a} -> {b}" for a, b in distinct[:8]))
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
            report(title, module.__name__, trace(module, argv, stdin), options.verbose)


if __name__ == "__main__":
    main()
