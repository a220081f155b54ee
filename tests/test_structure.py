"""House rules of the code's shape, kept by a test instead of by memory (docs/design.md §1).

- Module size: at most 400 lines (450 in ``kernels/``); functions at most 60 lines outside
  ``kernels/``.
- Only ``kernels/`` imports numba, and kernels import nothing else of pattools.
- Only ``io/`` imports the byte libraries (cbor2, json, orjson, struct), so only ``io``
  produces or parses bytes.
- Outside ``io/`` and ``cli/``, code uses the ``pattools.io`` package's public names, never
  its internal modules; ``edit/``, ``replay/``, ``tokens/``, ``lattice/`` and ``kernels/`` do
  not use ``io`` at all: they take and return frames.
- Layers point one way: ``tokens`` builds tokens from arrays (it never runs the lattice),
  ``lattice`` never tokenizes, ``simulation`` (which runs both) takes and returns frames,
  ``replay`` holds no edit machinery.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "pattools"
MODULE_LINES = 400
KERNEL_MODULE_LINES = 450
FUNCTION_LINES = 60
BYTE_LIBRARIES = ("cbor2", "json", "orjson", "struct")

# package -> pattools packages it must not import
FORBIDDEN = {
    "kernels": ("io", "tokens", "lattice", "edit", "replay", "score", "nupca", "cli", "render", "diff",
                "schema", "notices", "interrupts", "errors", "exporting", "api", "warmup", "parallel"),
    "tokens": ("io", "lattice", "edit", "replay", "score", "nupca", "cli", "render", "diff", "exporting"),
    "lattice": ("io", "tokens", "edit", "replay", "score", "nupca", "cli", "render", "diff", "exporting"),
    "edit": ("io", "replay", "score", "nupca", "cli", "render", "diff", "exporting", "lattice"),
    "replay": ("io", "edit", "score", "nupca", "cli", "render", "diff", "exporting"),
    "simulation": ("io", "edit", "replay", "score", "nupca", "cli", "render", "diff", "exporting"),
}


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _name(path: Path) -> str:
    return str(path.relative_to(PACKAGE.parent))


def _area(path: Path) -> str:
    parts = path.relative_to(PACKAGE).parts
    return parts[0] if len(parts) > 1 else path.stem


def _imports(path: Path) -> list[str]:
    """Every module name an import statement in the file names (any depth)."""
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
            names.extend(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_module_sizes() -> None:
    too_long = []
    for path in _modules():
        limit = KERNEL_MODULE_LINES if _area(path) == "kernels" else MODULE_LINES
        lines = len(path.read_text().splitlines())
        if lines > limit:
            too_long.append(f"{_name(path)}: {lines} lines (limit {limit})")
    assert not too_long, "\n".join(too_long)


def test_function_sizes() -> None:
    too_long = []
    for path in _modules():
        if _area(path) == "kernels":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > FUNCTION_LINES:
                    too_long.append(f"{_name(path)}:{node.lineno} {node.name}: {lines} lines")
    assert not too_long, "\n".join(too_long)


def test_only_kernels_import_numba() -> None:
    offenders = [_name(p) for p in _modules() if _area(p) != "kernels"
                 and any(n == "numba" or n.startswith("numba.") for n in _imports(p))]
    assert not offenders, offenders


def test_kernels_import_numba_through_jit_only() -> None:
    """``kernels/_jit.py`` configures numba before importing it (threads, vector width); a
    kernel module importing numba itself could import it first, unconfigured."""
    offenders = [_name(p) for p in _modules() if _area(p) == "kernels" and p.name != "_jit.py"
                 and any(n == "numba" or n.startswith("numba.") for n in _imports(p))]
    assert not offenders, offenders


def test_only_io_imports_byte_libraries() -> None:
    offenders = [f"{_name(p)}: {n}" for p in _modules() if _area(p) != "io"
                 for n in _imports(p) if n.split(".")[0] in BYTE_LIBRARIES]
    assert not offenders, "\n".join(offenders)


def test_io_internals_stay_inside_io() -> None:
    offenders = []
    for path in _modules():
        if _area(path) in ("io", "cli"):
            continue
        for name in _imports(path):
            if name.startswith("pattools.io."):
                module = name.split(".")[2]
                if (PACKAGE / "io" / f"{module}.py").exists():
                    offenders.append(f"{_name(path)}: {name}")
    assert not offenders, "\n".join(offenders)


@pytest.mark.parametrize("area", sorted(FORBIDDEN))
def test_layers_point_one_way(area: str) -> None:
    offenders = []
    for path in _modules():
        if _area(path) != area:
            continue
        for name in _imports(path):
            parts = name.split(".")
            if parts[0] == "pattools" and len(parts) > 1 and parts[1] in FORBIDDEN[area]:
                offenders.append(f"{_name(path)}: {name}")
    assert not offenders, "\n".join(sorted(set(offenders)))
