"""Generate man/<command>.1 from each command's argument parser (``make man``).

Pages are reproducible: the date is pinned, the width fixed, and nothing depends on the
machine. ``--check`` exits 1 when a page on disk differs from what the parser gives.
Pages are plain ASCII roff: other characters become groff escapes (Δ is ``\\[*D]``), and a
text line that would start with a control character is protected, so ``groff -ww`` is
silent and no sentence is swallowed as an unknown macro.
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import sys
from pathlib import Path

from pattools import __version__
from pattools.cli.base import EXIT_STATUS_TEXT
from pattools.cli.commands import COMMANDS, CommandInfo

PINNED_DATE = "2026-11-22"
WIDTH = "80"


# The macros argparse-manpage writes (and a few it may); any other line that starts with
# "." or "'" is text that happened to wrap there.
MACROS = frozenset("TH SH SS TP IP PP LP P HP B I BR BI IB IR RB RI SM SB RS RE br nf fi sp in ad na ne ft ti "
                   "UR UE MT ME EX EE".split())
# Named groff escapes for the characters the help texts use; others become \[uXXXX].
GLYPHS = {"Δ": r"\[*D]", "π": r"\[*p]", "σ": r"\[*s]", "α": r"\[*a]", "β": r"\[*b]", "γ": r"\[*g]",
          "λ": r"\[*l]", "·": r"\[pc]", "×": r"\[mu]", "−": r"\[mi]", "≤": r"\[<=]", "≥": r"\[>=]",
          "→": r"\[->]", "←": r"\[<-]", "⇄": r"\[<>]", "±": r"\[+-]", "§": r"\[sc]", "…": r"\[u2026]",
          "–": r"\[en]", "—": r"\[em]", "’": r"\[cq]", "‘": r"\[oq]", "“": r"\[lq]", "”": r"\[rq]",
          "²": r"\[u00B2]", "√": r"\[sr]", "∞": r"\[if]", "≈": r"\[~~]", "⌈": r"\[lc]", "⌉": r"\[rc]"}


def groff_clean(page: str) -> str:
    """ASCII-only roff: non-ASCII as groff escapes, stray leading control characters protected."""
    lines = []
    for line in page.split("\n"):
        match = re.match(r"[.'](\S*)", line)
        if match and not line.startswith('.\\"') and match.group(1) not in MACROS:
            line = "\\&" + line
        lines.append(line)
    text = "\n".join(lines)
    return "".join(ch if ord(ch) < 128 else GLYPHS.get(ch, f"\\[u{ord(ch):04X}]") for ch in text)


def render(info: CommandInfo) -> str:
    from argparse_manpage.manpage import Manpage

    os.environ["COLUMNS"] = WIDTH
    module = importlib.import_module(info.module)
    parser = module.build_parser()
    page = Manpage(parser, _data={"date": PINNED_DATE, "project_name": "pattools", "version": __version__,
                                  "manual_title": "pattools manual", "description": info.summary})
    exit_status = getattr(module, "EXIT_STATUS_TEXT", EXIT_STATUS_TEXT)  # a command's own, where it differs
    page.add_section("exit status", "=", exit_status.replace("\n", "\n.br\n"))
    page.add_section("memory", "=", f"{info.name} {info.memory}.")
    page.add_section("see also", "=", ", ".join(f"{other.name}(1)" for other in COMMANDS if other is not info))
    return groff_clean(str(page))


def sync_generated(path: Path, text: str, *, check: bool) -> bool:
    """Whether the generated file at ``path`` holds ``text``; without ``check``, make it so."""
    if path.is_file() and path.read_text() == text:
        return True
    if check:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    print(f"wrote {path}", file=sys.stderr)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="man", help="directory for the pages (default man/)")
    parser.add_argument("--check", action="store_true", help="compare instead of writing; exit 1 if stale")
    parser.add_argument("commands", nargs="*", help="only these commands")
    options = parser.parse_args(argv)
    out = Path(options.out)
    stale = []
    for info in COMMANDS:
        if options.commands and info.name not in options.commands:
            continue
        try:
            text = render(info)
        except ModuleNotFoundError as exc:
            if exc.name == info.module:
                print(f"skip {info.name}: {info.module} not written yet", file=sys.stderr)
                continue
            raise
        if not sync_generated(out / f"{info.name}.1", text, check=options.check):
            stale.append(info.name)
    if stale:
        print("stale man pages: " + ", ".join(stale) + " (run make man)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
