"""nupca-step figures (issue 7): step rate, scaling in D, memory, state size, PAT vs persistence.

Reference (the original code, same defaults, this machine class): 82–84 ms per step at
D = 1024, B = 256 (2.0 GiB resident) and 2.85 s per step at D = 4096, B = 1024 (17 GiB).
Targets: ≥ 1,000 steps/s at D = 1024, B = 256 with the default fovea budget after warm-up;
per-step time and state size linear in D at fixed block size; ≤ 200 MB resident at D = 4096.

What is measured:
- library step rate at D = 256, 1024, 4096 (B = D/4: block size 4, all other settings the
  defaults, REST every 500 steps included), on the synthetic linear-block environment
  (every step offers all D dims; the fovea commits 64 blocks). Observations are made
  before the clock starts; 500 warm-up steps. Wall time and CPU time (process time,
  steadier when other work shares the machine), mean and median per step.
- the saved state's size (canonical CBOR) after the run;
- peak resident memory of a fresh process running 2,000 steps at D = 4096;
- the command end to end: ``nupca-step --state`` over 2,000 CBOR observations at D = 1024
  (process start, numba cache load, decode, step, trace encode, state save);
- with ``--pat``: ``pat-export --seeds 1234 --frames 300 | nupca-step --from-pat`` with the
  defaults (no REST, REST every 50) and with a faster-learning configuration that also
  observes every patch (TUNED; 9 patches at the export defaults); mean
  prior_obs_mae over the last 100 frames beside persistence (frame t+1 predicted by the
  true frame t on the same observed dims).

Run: .venv/bin/python bench/bench_nupca.py [--steps N] [--pat]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import BIN, env  # noqa: E402
from pattools.io import cbor as pcbor  # noqa: E402
from pattools.io import read_records  # noqa: E402
from pattools.nupca import codec  # noqa: E402
from pattools.nupca.config import config_from_dict  # noqa: E402
from pattools.nupca.pat import observation_from_frame  # noqa: E402
from pattools.nupca.state import init_state  # noqa: E402
from pattools.nupca.step import step  # noqa: E402
from pattools.nupca.synthetic import LinearBlockEnv  # noqa: E402

TUNED = {"lr_expert": 0.2, "sigma_ema": 0.3, "learn_warmup": 1000, "fovea_blocks_per_step": 9}


def step_rate(dim: int, steps: int, warmup: int = 500) -> dict:
    config = config_from_dict({"D": dim, "B": dim // 4})
    state = init_state(config)
    environment = LinearBlockEnv(config, seed=1, noise=0.02)
    stream = list(environment.stream(warmup + steps, rest_every=500))
    for obs in stream[:warmup]:
        step(state, obs)
    wall, cpu = [], []
    for obs in stream[warmup:]:
        w0, c0 = time.perf_counter(), time.process_time()
        step(state, obs)
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
    size = len(pcbor.encode(codec.state_to_record(state, "cbor")))
    wall_a, cpu_a = np.array(wall), np.array(cpu)
    return {"D": dim, "B": dim // 4, "wall_ms": wall_a.mean() * 1e3, "wall_median_ms": np.median(wall_a) * 1e3,
            "cpu_ms": cpu_a.mean() * 1e3, "steps_per_s_wall": 1.0 / wall_a.mean(),
            "steps_per_s_cpu": 1.0 / cpu_a.mean(), "state_bytes": size, "nodes": state.library.size}


CHILD = """
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
subprocess.run(sys.argv[1:], check=True)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def peak_rss_mib(dim: int, steps: int) -> float:
    """Peak RSS of a fresh process, measured from a small parent (a child forked from this
    big process would inherit its high-water mark at exec)."""
    root = str(Path(__file__).resolve().parent.parent)
    out = subprocess.run([sys.executable, "-c", PARENT, sys.executable, "-c", CHILD, root, str(dim), str(steps)],
                         check=True, env=env(), capture_output=True)
    return int(out.stdout) / 1024


def command_rate(dim: int, steps: int) -> dict:
    config = config_from_dict({"D": dim, "B": dim // 4})
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        obs_path = tmp_path / "obs.cbor"
        with open(obs_path, "wb") as out:
            for obs in LinearBlockEnv(config, seed=1, noise=0.02).stream(steps, rest_every=500):
                out.write(pcbor.encode(codec.observation_to_record(obs, "cbor")))
        state = tmp_path / "s.cbor"
        subprocess.run([str(BIN / "nupca-step"), "--init", f"{dim},{dim // 4}"], stdout=open(state, "wb"),
                       check=True, env=env())
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            subprocess.run([str(BIN / "nupca-step"), "--state", str(state), "--state-out", str(tmp_path / "o.cbor")],
                           stdin=open(obs_path, "rb"), stdout=subprocess.DEVNULL, check=True, env=env())
            best = min(best, time.perf_counter() - start)
    return {"D": dim, "steps": steps, "seconds": best, "steps_per_s": steps / best}


def pat_comparison(frames: int = 300) -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        frames_path = tmp_path / "frames.cbor"
        subprocess.run([str(BIN / "pat-export"), "--seeds", "1234", "--frames", str(frames)],
                       stdout=open(frames_path, "wb"), check=True, env=env())
        features = [observation_from_frame(r.value).cue.values for r in read_records([str(frames_path)])]
        config_path = tmp_path / "tuned.json"
        config_path.write_text(json.dumps(TUNED))
        runs = [("defaults", []), ("defaults, REST every 50", ["--rest-every", "50"]),
                (f"{json.dumps(TUNED)}", ["--config", str(config_path)])]
        results = []
        for label, extra in runs:
            out = subprocess.run([str(BIN / "nupca-step"), "--from-pat", "--format", "jsonl", *extra],
                                 stdin=open(frames_path, "rb"), capture_output=True, check=True, env=env())
            traces = [json.loads(line) for line in out.stdout.decode().splitlines()]
            agent, persistence = [], []
            for t, trace in enumerate(traces[-100:], start=len(traces) - 100):
                dims = np.array(trace["O_t"], dtype=np.int64)
                if trace["prior_obs_mae"] is None or dims.size == 0:
                    continue
                agent.append(trace["prior_obs_mae"])
                persistence.append(float(np.mean(np.abs(features[t][dims] - features[t - 1][dims]))))
            results.append({"run": label, "agent": float(np.mean(agent)), "persistence": float(np.mean(persistence))})
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--pat", action="store_true", help="also run the PAT comparison (needs pat-export)")
    parser.add_argument("--quick", action="store_true", help="make bench: 300 steps, D up to 1024")
    options = parser.parse_args()
    if options.quick:
        options.steps = min(options.steps, 300)
    dims = (256, 1024) if options.quick else (256, 1024, 4096)
    rss_dim, rss_steps = (1024, options.steps) if options.quick else (4096, 2000)
    print("library step (synthetic, defaults, B = D/4, REST every 500):")
    print(f"{'D':>6} {'B':>6} {'wall ms':>8} {'median':>7} {'cpu ms':>7} {'steps/s wall':>13} "
          f"{'steps/s cpu':>12} {'state MB':>9} {'nodes':>6}")
    for dim in dims:
        r = step_rate(dim, options.steps)
        print(f"{r['D']:>6} {r['B']:>6} {r['wall_ms']:>8.3f} {r['wall_median_ms']:>7.3f} {r['cpu_ms']:>7.3f} "
              f"{r['steps_per_s_wall']:>13.0f} {r['steps_per_s_cpu']:>12.0f} {r['state_bytes'] / 1e6:>9.2f} "
              f"{r['nodes']:>6}")
    print(f"peak RSS, fresh process, {rss_steps} steps at D = {rss_dim}: {peak_rss_mib(rss_dim, rss_steps):.0f} MiB")
    c = command_rate(1024, options.steps)
    print(f"nupca-step end to end, {c['steps']} CBOR observations at D = 1024: {c['seconds']:.2f} s "
          f"({c['steps_per_s']:.0f} steps/s including start-up and state save)")
    if options.pat:
        print("PAT (pat-export --seeds 1234 --frames 300 | nupca-step --from-pat), last 100 frames:")
        for r in pat_comparison():
            print(f"  {r['run']:<60} agent {r['agent']:.5f}  persistence {r['persistence']:.5f}  "
                  f"ratio {r['agent'] / r['persistence']:.1f}")


if __name__ == "__main__":
    main()
