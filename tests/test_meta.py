"""House rules kept by tests: every command has a module, launcher, script, man page (fresh),
README row and tests; only pattools/kernels imports numba; only pattools/io imports codecs."""

from __future__ import annotations

import re
import tomllib

import pytest

from pattools.cli import manpages
from pattools.cli.commands import COMMANDS
from tests.helpers import BIN, ROOT


@pytest.mark.parametrize("info", COMMANDS, ids=lambda info: info.name)
def test_command_is_complete(info):
    module_path = ROOT / (info.module.replace(".", "/") + ".py")
    assert module_path.is_file(), f"{info.module} missing"
    assert (BIN / info.name).is_file()
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts[info.name] == f"{info.module}:main"
    page = ROOT / "man" / f"{info.name}.1"
    assert page.is_file(), "man page missing: run make man"
    assert page.read_text() == manpages.render(info), f"{page.name} is stale: run make man"
    assert f"`{info.name}`" in (ROOT / "README.md").read_text()
    mentioned = any(info.name in p.read_text() for p in (ROOT / "tests").glob("test_*.py") if p.name != "test_meta.py")
    assert mentioned, f"no test runs {info.name}"


def _python_files(package: str):
    return sorted((ROOT / "pattools").rglob("*.py")) if package == "" else sorted((ROOT / "pattools" / package).rglob("*.py"))


def test_only_kernels_import_numba():
    offenders = [str(p.relative_to(ROOT)) for p in _python_files("")
                 if re.search(r"^\s*(import numba|from numba)", p.read_text(), re.M)
                 and "pattools/kernels/" not in str(p)]
    assert offenders == []


def test_only_io_imports_codecs():
    allowed = ("pattools/io/", "pattools/schema.py")
    offenders = [str(p.relative_to(ROOT)) for p in _python_files("")
                 if re.search(r"^\s*(import (cbor2|orjson|json)\b|from (cbor2|orjson|json)\b)", p.read_text(), re.M)
                 and not str(p.relative_to(ROOT)).startswith(allowed)]
    assert offenders == []


def test_no_fastmath_anywhere():
    offenders = [str(p) for p in _python_files("") if re.search(r"fastmath\s*=\s*True", p.read_text())]
    assert offenders == []
