#!/usr/bin/env python3
"""Write NUPCA_OBS records (JSON lines) for nupca-step: a slowly rotating signal.

    python3 examples/make-observations.py --dims 64 --steps 600 > observations.jsonl

Each block of 4 dims holds two 2-D points turning at their own fixed rate, so the stream
has fixed linear dynamics per block that the agent can learn. Every step offers the
whole vector; ``--hide F`` leaves out every F-th dim. Deterministic: same flags, same
bytes. Needs only the Python standard library.
"""

import argparse
import json
import math
import sys


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dims", type=int, default=64, help="state dimension D, a multiple of 4 (default 64)")
    parser.add_argument("--steps", type=int, default=600, help="number of observations (default 600)")
    parser.add_argument("--hide", type=int, default=0, help="leave out every F-th dim (default: none)")
    options = parser.parse_args()
    if options.dims <= 0 or options.dims % 4 or options.steps < 0:
        parser.error("--dims must be a positive multiple of 4 and --steps >= 0")
    pairs = options.dims // 2
    rates = [0.05 + 0.2 * ((7 * p) % pairs) / pairs for p in range(pairs)]
    out = sys.stdout
    for t in range(options.steps):
        dims, values = [], []
        for p, rate in enumerate(rates):
            angle = rate * t + p
            for k, value in ((2 * p, math.cos(angle)), (2 * p + 1, math.sin(angle))):
                if options.hide and k % options.hide == options.hide - 1:
                    continue
                dims.append(k)
                values.append(round(0.5 + 0.4 * value, 6))
        record = {"kind": "NUPCA_OBS", "version": 1, "t": t, "x_partial": {"dims": dims, "values": values}}
        out.write(json.dumps(record, separators=(",", ":")) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
