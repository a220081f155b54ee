"""docs/ is the project's own reference: it exists, every citation of it resolves to a real
section, its record examples are valid records, and nothing a user reads points to files
outside the repository. Man pages are clean roff; completion scripts are current."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from pattools import schema
from pattools.cli import completion
from pattools.cli.commands import COMMANDS
from pattools.edit.bounds import Bounds
from tests.helpers import ROOT

DOCS = ROOT / "docs"
# What a user never has: the design notes the project was written from, machine paths.
FORBIDDEN = re.compile(
    r"spec/[\w-]+\.md|\.\./shared|shared/spec|lattice-reference|nupca-reference|pat-tokens\.md"
    r"|DESIGN\.md|(?<![/\[(])\b(?:editing|nupca)\.md|/work/|\bthe spec\b|\bseed doc")
CITATION = re.compile(r"docs/([\w-]+)\.md(?:,? (?:§|section )(\d+(?:\.\d+)?[a-z]?))?")
LINK = re.compile(r"\]\(([\w-]+)\.md\)(?: §(\d+(?:\.\d+)?[a-z]?))?")  # relative links inside docs/
HEADING = re.compile(r"^#{2,4} (\d+(?:\.\d+)?[a-z]?)\.? ", re.M)


def _user_facing_files():
    yield ROOT / "README.md"
    yield from sorted(DOCS.glob("*.md"))
    yield from sorted((ROOT / "man").glob("*.1"))
    yield from sorted((ROOT / "pattools").rglob("*.py"))
    yield from sorted((ROOT / "pattools" / "data").glob("*.json"))
    yield from sorted((ROOT / "schemas").glob("*.json"))
    yield from sorted((ROOT / "bin").iterdir())
    yield from sorted((ROOT / "examples").rglob("*"))
    yield from sorted((ROOT / "completion").rglob("*"))


def test_nothing_points_to_files_users_do_not_have():
    offenders = []
    for path in _user_facing_files():
        if not path.is_file():
            continue
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            if FORBIDDEN.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:100]}")
    assert offenders == [], "references to files outside the repository:\n" + "\n".join(offenders)


def _sections(page: str) -> set[str]:
    return set(HEADING.findall((DOCS / f"{page}.md").read_text()))


def test_every_docs_citation_resolves_to_a_page_and_section():
    pages = {p.stem for p in DOCS.glob("*.md")}
    broken = []
    for path in _user_facing_files():
        if not path.is_file() or path.suffix not in (".py", ".md", ".json", ".1", ""):
            continue
        text = path.read_text(errors="replace").replace("\\[sc]", "§")
        found = CITATION.findall(text) + (LINK.findall(text) if path.parent == DOCS else [])
        for page, section in found:
            if page not in pages:
                broken.append(f"{path.relative_to(ROOT)}: docs/{page}.md does not exist")
            elif section and section not in _sections(page):
                broken.append(f"{path.relative_to(ROOT)}: docs/{page}.md has no section {section}")
    assert broken == []


def test_docs_index_lists_every_page():
    index = (DOCS / "README.md").read_text()
    missing = [p.name for p in DOCS.glob("*.md") if p.name != "README.md" and f"({p.name})" not in index]
    assert missing == []


def _json_blocks(page: str):
    text = (DOCS / page).read_text()
    for match in re.finditer(r"^```json\n(.*?)^```", text, re.M | re.S):
        line = text[:match.start()].count("\n") + 1
        yield line, json.loads(match.group(1))


@pytest.mark.parametrize("page", ["records.md", "shards.md"])
def test_docs_record_examples_are_valid(page):
    seen = []
    for line, example in _json_blocks(page):
        where = f"docs/{page}:{line}"
        if "kind" in example:
            schema.validate(example, input=where)
            seen.append(example["kind"])
        elif "codebookSHA" in example:
            schema.validate(example, kind="PAT_MANIFEST", input=where)
            seen.append("PAT_MANIFEST")
        else:
            assert Bounds.from_mapping(example, input=where) == Bounds.default(), where
            seen.append("bounds")
    expected = {"records.md": {"PAT_FRAME", "PAT_EDIT", "bounds", "PAT_SCORE", "PAT_PACK", "PAT_SUMMARY",
                               "NUPCA_OBS", "NUPCA_TRACE"},
                "shards.md": {"PAT_MANIFEST"}}[page]
    assert set(seen) == expected


def test_records_page_has_a_section_per_kind():
    text = (DOCS / "records.md").read_text()
    kinds = {p.name.split(".")[0] for p in (ROOT / "schemas").glob("*.schema.json")} - {"defs"}
    missing = [k for k in sorted(kinds) if not re.search(rf"^## {k}\b|^## .*\b{k}\b", text, re.M)]
    assert missing == []


@pytest.mark.skipif(shutil.which("groff") is None, reason="groff is not installed")
@pytest.mark.parametrize("info", COMMANDS, ids=lambda info: info.name)
def test_man_page_is_clean_roff(info):
    page = ROOT / "man" / f"{info.name}.1"
    data = page.read_bytes()
    assert all(b < 128 for b in data), f"{page.name}: non-ASCII bytes (write groff escapes)"
    result = subprocess.run(["groff", "-ww", "-z", "-man", str(page)], capture_output=True, timeout=60)
    assert result.returncode == 0 and result.stderr == b"", result.stderr.decode()


def test_completion_scripts_are_current():
    stale = [str(completion.path_for(ROOT / "completion", info, shell)) for info in COMMANDS
             for shell in completion.SHELLS
             if not completion.path_for(ROOT / "completion", info, shell).is_file()
             or completion.path_for(ROOT / "completion", info, shell).read_text() != completion.render(info, shell)]
    assert stale == [], "stale completion scripts (run make man): " + ", ".join(stale)


def test_bash_completion_completes_flags_and_files(tmp_path):
    (tmp_path / "edit.cbor").write_bytes(b"")
    script = (f". {ROOT}/completion/bash/pat-apply\n"
              "complete() { COMP_WORDS=(\"$@\"); COMP_CWORD=$(($# - 1)); COMP_LINE=\"$*\"; COMP_POINT=${#COMP_LINE};"
              " COMPREPLY=(); _shtab_pat_apply; echo \"${COMPREPLY[*]}\"; }\n"
              "complete pat-apply --cl\ncomplete pat-apply --edit ed\n")
    result = subprocess.run(["bash", "-c", script], capture_output=True, cwd=tmp_path, timeout=60)
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout.decode().splitlines() == ["--clip", "edit.cbor"]


def test_every_benchmark_has_a_quick_mode():
    """make bench runs each bench/ script in quick mode: with run_all's arguments, or --quick."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("run_all", ROOT / "bench" / "run_all.py")
    run_all = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run_all)
    scripts = run_all.scripts()
    assert len(scripts) >= 8
    missing = [p.name for p in scripts if p.name not in run_all.QUICK and "--quick" not in p.read_text()]
    assert missing == [], "give these a --quick flag (or an entry in bench/run_all.py QUICK)"
    assert "bench/run_all.py" in (ROOT / "Makefile").read_text()
