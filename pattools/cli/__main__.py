"""``python -m pattools.cli COMMAND [ARGS...]``: run any command without installed scripts.

This is what the bin/ launchers run. When the interpreter lacks one of pattools'
dependencies (pattools is not installed in it), the command says in one line what to
run instead of failing with a traceback.
"""

from __future__ import annotations

import sys

if __name__ == "__main__":  # handle Ctrl-C and SIGTERM from the first moment pattools runs
    from pattools import interrupts
    from pattools.cli import COMMAND_PREFIXES

    interrupts.install(sys.argv[1] if len(sys.argv) > 1 and sys.argv[1].startswith(COMMAND_PREFIXES)
                       else "pattools")

import importlib  # noqa: E402

from pattools.cli.commands import COMMANDS, by_name  # noqa: E402

SETUP_HINT = ("run 'make demo' in the pattools checkout (or: python3 -m pip install -e .), "
              "or set PATTOOLS_PYTHON to a Python that has pattools installed")


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] in ("-h", "--help"):
        names = "\n".join(f"  {info.name:<13} {info.summary}" for info in COMMANDS)
        sys.stdout.write(f"usage: python -m pattools.cli COMMAND [ARGS...]\n\ncommands:\n{names}\n")
        sys.exit(0 if len(sys.argv) >= 2 else 2)
    try:
        info = by_name(sys.argv[1])
    except KeyError:
        sys.stderr.write(f"pattools: unknown command {sys.argv[1]!r}\n")
        sys.exit(2)
    sys.argv = [info.name] + sys.argv[2:]
    try:
        module = importlib.import_module(info.module)
        module.main()
    except ModuleNotFoundError as exc:
        if not exc.name or exc.name.split(".")[0] == "pattools":
            raise
        sys.stderr.write(f"{info.name}: this Python ({sys.executable}) lacks the package "
                         f"{exc.name.split('.')[0]!r} that pattools needs: {SETUP_HINT}\n")
        sys.exit(1)


if __name__ == "__main__":
    main()
