"""Command-line entry points: one thin module per command (arguments and wiring only)."""
