"""A plain (non-editable) install ships the schemas and the default bounds inside the package,
and the man pages and completion scripts under share/."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile

from tests.helpers import ROOT


def test_wheel_contains_schemas_and_runs_from_site_packages(tmp_path):
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path / "w"),
                            str(ROOT)], capture_output=True, timeout=300)
    assert build.returncode == 0, build.stderr.decode()
    (wheel,) = (tmp_path / "w").glob("pattools-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    schema_files = {p.name for p in (ROOT / "schemas").glob("*.schema.json")}
    assert {f"pattools/schemas/{n}" for n in schema_files} <= names
    data = "pattools-0.1.0.data/data/share"
    pages = {f"{data}/man/man1/{p.name}" for p in (ROOT / "man").glob("*.1")}
    completions = ({f"{data}/bash-completion/completions/{p.name}" for p in (ROOT / "completion" / "bash").iterdir()}
                   | {f"{data}/zsh/site-functions/{p.name}" for p in (ROOT / "completion" / "zsh").iterdir()})
    assert pages and pages <= names, "man pages are not installed into share/man/man1"
    assert completions <= names, "completion scripts are not installed"
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
                   check=True, capture_output=True, timeout=300)
    code = ("import pattools, pattools.schema as s; "
            "assert pattools.__file__.startswith(%r), pattools.__file__; "
            "print(s.schema_dir()); s.validate({'kind': 'PAT_SUMMARY', 'version': 1, 'records': 0, 'kinds': {}})"
            % str(target))
    env = dict(os.environ, PYTHONPATH=str(target))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, env=env, cwd=tmp_path, timeout=60)
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout.decode().strip() == str(target / "pattools" / "schemas")
