"""nupca-step figures: step rate (against a previous version in the same run), scaling in D,
memory, state size, and how well the agent predicts against the free baselines.

Targets (issues 7 and 13): ≥ 1,000 steps/s at D = 1024, B = 256 with the default fovea
after warm-up, and ≥ 0.8× the previous version measured in the same run; per-step time
and state size linear in D at fixed block size; ≤ 200 MB resident at D = 4096.

What is measured:
- library step rate at D = 256, 1024, 4096 (B = D/4: block size 4, all other settings the
  defaults, REST every 500 steps included) on the synthetic rotations environment with
  observation noise 0.02 (every step offers all D dims; the fovea commits 64 blocks).
  Each figure is a fresh process; observations are made before the clock starts; 500
  warm-up steps; the best of ``--repeat`` runs of the mean CPU time per step (process
  time: steadier when other work shares the machine). With ``--old PATH`` (a checkout of
  the previous version, e.g. ``git worktree add /tmp/nupca-old main``) the same child
  runs that code too, alternating with this one.
- the saved state's size (canonical CBOR) after the run;
- peak resident memory of a fresh process running 2,000 steps at D = 4096 (observations
  made as they are consumed), this version and the old one;
- learning with the defaults (no configuration, no REST): rotations and noisy AR(1)
  blocks at D = 128, B = 32 over 2,000 steps: mean prior_obs_mae of the first and last
  200 steps and persistence (the true x_t predicting x_{t+1});
- with ``--pat``: ``pat-export --seeds S --frames 300 | nupca-step --from-pat`` for
  S = 1, 2, 3, last 100 frames: mean prior_obs_mae against mean persistence_mae (last-seen
  persistence) with the default fovea, and against plain persistence (frame t predicting
  t+1 on the same dims) with the fovea on all 9 blocks.

Run: .venv/bin/python bench/bench_nupca.py [--steps N] [--old PATH] [--pat]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import BIN, ROOT, env  # noqa: E402

CHILD = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
import numpy as np
from pattools.io import cbor
from pattools.nupca import codec
from pattools.nupca.config import config_from_dict
from pattools.nupca.state import init_state
from pattools.nupca.step import step
from pattools.nupca.synthetic import LinearBlockEnv
dim, steps, warmup = int(sys.argv[2]), int(sys.argv[3]), 500
config = config_from_dict({"D": dim, "B": dim // 4})
state = init_state(config)
stream = list(LinearBlockEnv(config, seed=1, noise=0.02).stream(warmup + steps, rest_every=500))
for obs in stream[:warmup]:
    step(state, obs)
wall, cpu = [], []
for obs in stream[warmup:]:
    w0, c0 = time.perf_counter(), time.process_time()
    step(state, obs)
    wall.append(time.perf_counter() - w0)
    cpu.append(time.process_time() - c0)
size = len(cbor.encode(codec.state_to_record(state, "cbor")))
print(json.dumps({"wall_ms": float(np.mean(wall)) * 1e3, "cpu_ms": float(np.mean(cpu)) * 1e3,
                  "state_bytes": size, "nodes": state.library.size}))
"""

STREAMING = """
import sys
sys.path.insert(0, sys.argv[1])
from pattools.nupca.config import config_from_dict
from pattools.nupca.state import init_state
from pattools.nupca.step import step
from pattools.nupca.synthetic import LinearBlockEnv
config = config_from_dict({"D": int(sys.argv[2]), "B": int(sys.argv[2]) // 4})
state = init_state(config)
for obs in LinearBlockEnv(config, seed=1, noise=0.02).stream(int(sys.argv[3]), rest_every=500):
    step(state, obs)
"""

PARENT = """
import resource, subprocess, sys
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def child_env(root: Path) -> dict[str, str]:
    e = env()
    e["PYTHONPATH"] = str(root)
    return e


def step_rate(root: Path, dim: int, steps: int) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, str(root), str(dim), str(steps)], check=True,
                         capture_output=True, env=child_env(root))
    return json.loads(out.stdout)


def peak_rss_mib(root: Path, dim: int, steps: int) -> float:
    """Peak RSS of a fresh process, measured from a small parent (a child forked from this
    process would inherit its high-water mark at exec)."""
    out = subprocess.run([sys.executable, "-c", PARENT, sys.executable, "-c", STREAMING, str(root), str(dim),
                          str(steps)], check=True, env=child_env(root), capture_output=True)
    return int(out.stdout) / 1024


def learning_figures() -> list[dict]:
    from pattools.nupca.config import config_from_dict
    from pattools.nupca.state import init_state
    from pattools.nupca.step import step
    from pattools.nupca.synthetic import AR1BlockEnv, LinearBlockEnv

    rows = []
    for name, env_class in (("rotations", LinearBlockEnv), ("noisy AR(1)", AR1BlockEnv)):
        config = config_from_dict({"D": 128, "B": 32})
        state = init_state(config)
        agent, plain, previous = [], [], None
        for obs in env_class(config, seed=7).stream(2_000):
            trace = step(state, obs)
            agent.append(trace.prior_obs_mae)
            if previous is not None:
                plain.append(float(np.mean(np.abs(obs.cue.values - previous))))
            previous = obs.cue.values
        rows.append({"env": name, "first": float(np.mean(agent[:200])), "last": float(np.mean(agent[-200:])),
                     "persistence": float(np.mean(plain[-200:]))})
    return rows


def pat_figures(frames: int = 300) -> list[dict]:
    from pattools.io import read_records
    from pattools.nupca.pat import observation_from_frame

    results = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        config = folder / "all.json"
        config.write_text(json.dumps({"fovea_blocks_per_step": 9}))
        for seed in (1, 2, 3):
            path = folder / f"{seed}.cbor"
            subprocess.run([str(BIN / "pat-export"), "--seeds", str(seed), "--frames", str(frames)],
                           stdout=open(path, "wb"), check=True, env=env())
            features = [observation_from_frame(r.value, r.tokens.frame()).cue.values for r in read_records([str(path)])]
            row = {"seed": seed}
            for name, extra in (("default", []), ("all", ["--config", str(config)])):
                out = subprocess.run([str(BIN / "nupca-step"), "--from-pat", "--format", "jsonl", *extra],
                                     stdin=open(path, "rb"), capture_output=True, check=True, env=env())
                tail = [json.loads(line) for line in out.stdout.decode().splitlines()][-100:]
                row[f"{name}_agent"] = float(np.mean([t["prior_obs_mae"] for t in tail]))
                row[f"{name}_last_seen"] = float(np.mean([t["persistence_mae"] for t in tail]))
                row[f"{name}_plain"] = float(np.mean([np.mean(np.abs(features[t["t"]][t["O_t"]]
                                                                     - features[t["t"] - 1][t["O_t"]]))
                                                      for t in tail]))
            results.append(row)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--old", type=Path, help="a checkout of the previous version to measure against")
    parser.add_argument("--pat", action="store_true", help="also run the PAT comparison (needs pat-export)")
    parser.add_argument("--quick", action="store_true", help="make bench: 300 steps, one run, D up to 1024")
    options = parser.parse_args()
    if options.quick:
        options.steps, options.repeat = min(options.steps, 300), 1
    dims = (256, 1024) if options.quick else (256, 1024, 4096)
    rss_dim = 1024 if options.quick else 4096
    versions = [("this", ROOT)] + ([("old", options.old)] if options.old else [])
    print("library step (synthetic, defaults, B = D/4, REST every 500); best of", options.repeat, "runs:")
    print(f"{'version':>8} {'D':>6} {'cpu ms':>7} {'wall ms':>8} {'steps/s cpu':>12} {'state MB':>9} {'nodes':>6}")
    for dim in dims:
        best: dict[str, dict] = {}
        for _ in range(options.repeat):
            for name, root in versions:  # alternate, so both see the same machine load
                r = step_rate(root, dim, options.steps)
                if name not in best or r["cpu_ms"] < best[name]["cpu_ms"]:
                    best[name] = r
        for name, _root in versions:
            r = best[name]
            print(f"{name:>8} {dim:>6} {r['cpu_ms']:>7.3f} {r['wall_ms']:>8.3f} {1e3 / r['cpu_ms']:>12.0f} "
                  f"{r['state_bytes'] / 1e6:>9.2f} {r['nodes']:>6}")
        if options.old:
            print(f"{'':>8} {dim:>6} this / old step rate: {best['old']['cpu_ms'] / best['this']['cpu_ms']:.2f}x")
    for name, root in versions:
        print(f"peak RSS, fresh process, {options.steps} steps at D = {rss_dim} ({name}): "
              f"{peak_rss_mib(root, rss_dim, options.steps):.0f} MiB")
    if options.quick:
        return
    print("learning with the defaults (D 128, B 32, 2,000 steps, no REST), mean prior_obs_mae:")
    for r in learning_figures():
        print(f"  {r['env']:<12} first 200 {r['first']:.5f}  last 200 {r['last']:.5f}  "
              f"(first/last {r['first'] / r['last']:.1f}x)  persistence {r['persistence']:.5f}  "
              f"(persistence/last {r['persistence'] / r['last']:.1f}x)")
    if options.pat:
        print("PAT (pat-export --seeds S --frames 300 | nupca-step --from-pat), last 100 frames:")
        for r in pat_figures():
            print(f"  seed {r['seed']}: default fovea: agent {r['default_agent']:.5f}  persistence_mae "
                  f"{r['default_last_seen']:.5f}  ({r['default_last_seen'] / r['default_agent']:.2f}x better)   "
                  f"fovea on all 9 blocks: agent {r['all_agent']:.5f}  plain persistence {r['all_plain']:.5f}  "
                  f"({r['all_plain'] / r['all_agent']:.2f}x better)")


if __name__ == "__main__":
    main()
