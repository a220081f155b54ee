"""Generate bash and zsh completion scripts from each command's argument parser (``make man``).

Writes ``completion/bash/<command>`` and ``completion/zsh/_<command>`` with shtab, with
file-name completion for every argument that takes a path. ``--check`` exits 1 when a
script on disk differs from what the parser gives (the test suite runs it), so the
scripts never drift from the flags. Installed by ``pip install`` into
share/bash-completion/completions and share/zsh/site-functions.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from pattools.cli.commands import COMMANDS, CommandInfo
from pattools.cli.manpages import sync_generated

SHELLS: dict[str, str] = {"bash": "{name}", "zsh": "_{name}"}
FILE_METAVARS = frozenset({"FILE", "EDITS", "INPUT", "C", "S2", "none|baseline|FILE"})
FILE_DESTS = frozenset({"state", "state_out", "config", "inputs"})


def _mark_paths(parser: argparse.ArgumentParser) -> None:
    import shtab

    for action in parser._actions:
        if action.nargs == 0 or action.choices:
            continue
        if action.metavar == "DIR":
            action.complete = shtab.DIRECTORY  # type: ignore[attr-defined]
        elif action.metavar in FILE_METAVARS or action.dest in FILE_DESTS:
            action.complete = shtab.FILE  # type: ignore[attr-defined]


def render(info: CommandInfo, shell: str) -> str:
    """The completion script of one command for one shell."""
    import shtab

    parser = importlib.import_module(info.module).build_parser()
    parser.prog = info.name
    _mark_paths(parser)
    return shtab.complete(parser, shell=shell)


def path_for(out: Path, info: CommandInfo, shell: str) -> Path:
    return out / shell / SHELLS[shell].format(name=info.name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="completion", help="directory for the scripts (default completion/)")
    parser.add_argument("--check", action="store_true", help="compare instead of writing; exit 1 if stale")
    options = parser.parse_args(argv)
    out = Path(options.out)
    stale = []
    for info in COMMANDS:
        for shell in SHELLS:
            text = render(info, shell)
            path = path_for(out, info, shell)
            if not sync_generated(path, text, check=options.check):
                stale.append(str(path))
    if stale:
        print("stale completion scripts: " + ", ".join(stale) + " (run make man)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
