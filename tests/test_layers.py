"""The packages are layers and imports point down only: ui → longqa → app → agents → retrieval →
ingest → core (``longqa``, the Python API, is a façade over app/ that no layer below imports).
Inside agents/ and app/ the subpackages are layers too, in the order their ``__init__`` gives."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ["core", "ingest", "retrieval", "agents", "app", "longqa", "ui"]  # each may import those before it
# Inside a layer: each part may import those before it (a part is a subpackage or a module).
INNER = {
    "agents": ["answer", "prompts", "models", "evidence", "verify", "reading", "orchestrator"],
    "app": ["settings", "records", "journal", "wiring", "batch", "evaluation", "services", "http", "cli"],
}


def imported_modules(path: Path) -> set[str]:
    """The absolute module names a module imports (at any depth: lazy imports count too); for
    ``from a import b`` both ``a`` and ``a.b``, since ``b`` may be a module."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_imports_point_down_only() -> None:
    upward = []
    for rank, layer in enumerate(LAYERS):
        above = set(LAYERS[rank + 1 :])
        for path in sorted((ROOT / layer).rglob("*.py")):
            for package in sorted({name.split(".")[0] for name in imported_modules(path)} & above):
                upward.append(f"{path.relative_to(ROOT)} imports {package}")
    assert upward == []


def _part(layer: str, module: str) -> str | None:
    """The part of ``layer`` that a dotted module name falls in (None: the layer itself)."""
    pieces = module.split(".")
    return pieces[1] if len(pieces) > 1 and pieces[0] == layer else None


def test_parts_of_a_layer_import_down_only() -> None:
    upward = []
    for layer, order in INNER.items():
        for path in sorted((ROOT / layer).rglob("*.py")):
            relative = path.relative_to(ROOT / layer)
            own = relative.parts[0].removesuffix(".py")
            if own == "__init__":
                continue
            assert own in order, f"{layer}/{relative} is in no part of {layer}'s order: add it to INNER"
            above = set(order[order.index(own) + 1 :])
            for module in sorted(imported_modules(path)):
                part = _part(layer, module)
                if part in above:
                    upward.append(f"{layer}/{relative} imports {layer}.{part}")
    assert upward == []


def test_every_part_says_what_it_holds() -> None:
    """Each subpackage opens with its contract: what it holds, in its ``__init__`` docstring."""
    for layer in INNER:
        for init in sorted((ROOT / layer).rglob("__init__.py")):
            assert ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))), init.relative_to(ROOT)


def test_every_layer_is_a_package_that_ships() -> None:
    for layer in LAYERS:
        assert (ROOT / layer / "__init__.py").is_file()
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert all(f'"{layer}*"' in pyproject for layer in LAYERS)


def test_no_module_is_over_400_lines() -> None:
    long = []
    for layer in LAYERS:
        for path in sorted((ROOT / layer).rglob("*.py")):
            lines = path.read_text(encoding="utf-8").count("\n")
            if lines > 400:
                long.append(f"{path.relative_to(ROOT)}: {lines} lines")
    assert long == []
