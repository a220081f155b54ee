"""Command-line entry points: one thin module per command (arguments and wiring only).

Run as an installed command (``pat-export`` …), this package is the first pattools code the
console script imports, so it installs the command's signal handling before anything
else is imported: a Ctrl-C while the command is still loading exits 130 with one line,
never Python's traceback (pattools.interrupts).
"""

import os as _os
import sys as _sys

COMMAND_PREFIXES = ("pat-", "nupca-")  # every command's name starts with one

_command = _os.path.basename(_sys.argv[0]) if _sys.argv and _sys.argv[0] else ""
if _command.startswith(COMMAND_PREFIXES):
    from pattools import interrupts as _interrupts

    if not _interrupts.installed():
        _interrupts.install(_command)
