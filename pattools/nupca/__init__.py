"""The NUPCA3 agent step (docs/agent.md): one completion operator, a DAG of masked
linear-Gaussian experts, fovea-driven observation, precision-weighted fusion, learning
and REST-time structural edits. See ``step.step`` for the order of one step."""
