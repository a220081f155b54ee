"""The README runs: every ```sh (or ```bash) block as it is, with bash -e -o pipefail, and
every ```python block with this interpreter, in README order, in one temporary directory
that sees the checkout's bin/, examples/, completion/, man/ and docs/ (bin/ first on PATH).

A block that cannot run in a test opens with the line
``# not run by the README test: <reason>`` and stays small; ```text, ```json and bare
fences are never run. A failing block fails the test with its line, its section and the
tail of its output, so a section added later is covered without touching this file.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass

import pytest

from tests.helpers import ROOT, command_env

RUN_LANGS = {"sh": "shell", "bash": "shell", "python": "python"}
SKIP_MARK = "# not run by the README test:"
MAX_SKIPPED_LINES = 4
LINKED = ("bin", "examples", "completion", "man", "docs")
FENCE = re.compile(r"^```([\w-]*)[^\n]*\n(.*?)^```[ \t]*$", re.M | re.S)


@dataclass(frozen=True)
class Block:
    line: int
    section: str
    lang: str
    code: str

    @property
    def skip_reason(self) -> str | None:
        first = self.code.lstrip().splitlines()[0] if self.code.strip() else ""
        return first[len(SKIP_MARK):].strip() if first.startswith(SKIP_MARK) else None

    def where(self) -> str:
        return f"README.md line {self.line} (section {self.section!r}, ```{self.lang})"


def blocks(text: str) -> list[Block]:
    found, section, prose_start = [], "", 0
    for match in FENCE.finditer(text):
        headings = re.findall(r"^#{1,6} (.+)$", text[prose_start:match.start()], re.M)  # outside fences only
        section = headings[-1] if headings else section
        line = text.count("\n", 0, match.start()) + 1
        found.append(Block(line, section, match.group(1), match.group(2)))
        prose_start = match.end()
    return found


def runnable(text: str) -> list[Block]:
    return [b for b in blocks(text) if b.lang in RUN_LANGS and b.skip_reason is None]


def test_block_selection_rules():
    sample = ("# T\n## A\n```sh\necho a\n```\n```text\nnot run\n```\n```\nbare\n```\n"
              "## B\n```sh\n# not run by the README test: needs a cluster\nssh host\n```\n"
              "```python\nprint(1)\n```\n```json\n{}\n```\n")
    chosen = runnable(sample)
    assert [(b.lang, b.section, b.code) for b in chosen] == [("sh", "A", "echo a\n"), ("python", "B", "print(1)\n")]
    assert [b.skip_reason for b in blocks(sample) if b.skip_reason] == ["needs a cluster"]


def test_skipped_blocks_give_a_reason_and_stay_small():
    for block in blocks((ROOT / "README.md").read_text()):
        if block.skip_reason is not None:
            assert block.skip_reason, f"{block.where()}: say why it is not run"
            assert len(block.code.strip().splitlines()) <= MAX_SKIPPED_LINES, f"{block.where()}: keep it small"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("readme")
    for name in LINKED:
        (directory / name).symlink_to(ROOT / name)
    return directory


def _run(block: Block, cwd) -> subprocess.CompletedProcess:
    env = command_env()
    env["PATH"] = f"{cwd / 'bin'}{os.pathsep}{env['PATH']}"
    env["PYTHONPATH"] = f"{ROOT}{os.pathsep}{env.get('PYTHONPATH', '')}".rstrip(os.pathsep)
    env.pop("NO_COLOR", None)
    if RUN_LANGS[block.lang] == "shell":
        argv = ["bash", "-e", "-o", "pipefail", "-c", block.code]
    else:
        argv = [sys.executable, "-c", block.code]
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, timeout=240, stdin=subprocess.DEVNULL)


def test_every_readme_example_runs_in_order(workdir):
    chosen = runnable((ROOT / "README.md").read_text())
    assert len(chosen) >= 10, "the README lost its examples?"
    for block in chosen:
        result = _run(block, workdir)
        if result.returncode != 0:
            pytest.fail(f"{block.where()} exited {result.returncode}:\n{block.code}"
                        f"--- stdout (tail) ---\n{result.stdout.decode(errors='replace')[-1500:]}"
                        f"--- stderr (tail) ---\n{result.stderr.decode(errors='replace')[-3000:]}")
