"""``python -m pattools.cli COMMAND [ARGS...]``: run any command without installed scripts."""

from __future__ import annotations

import sys

if __name__ == "__main__":  # handle Ctrl-C and SIGTERM from the first moment pattools runs
    from pattools import interrupts

    interrupts.install(sys.argv[1] if len(sys.argv) > 1 and sys.argv[1].startswith(("pat-", "nupca-"))
                       else "pattools")

import importlib  # noqa: E402

from pattools.cli.commands import COMMANDS, by_name  # noqa: E402


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
    module = importlib.import_module(info.module)
    sys.argv = [info.name] + sys.argv[2:]
    module.main()


if __name__ == "__main__":
    main()
