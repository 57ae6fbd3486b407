"""The packages are layers and imports point down only: ui → app → agents → retrieval → ingest → core."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ["core", "ingest", "retrieval", "agents", "app", "ui"]  # each may import those before it


def imported_packages(path: Path) -> set[str]:
    """The top-level packages a module imports (at any depth: lazy imports count too)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


def test_imports_point_down_only() -> None:
    upward = []
    for rank, layer in enumerate(LAYERS):
        above = set(LAYERS[rank + 1 :])
        for path in sorted((ROOT / layer).rglob("*.py")):
            for package in sorted(imported_packages(path) & above):
                upward.append(f"{path.relative_to(ROOT)} imports {package}")
    assert upward == []


def test_every_layer_is_a_package_that_ships() -> None:
    for layer in LAYERS:
        assert (ROOT / layer / "__init__.py").is_file()
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert all(f'"{layer}*"' in pyproject for layer in LAYERS)
