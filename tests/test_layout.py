"""The shape of the house (STYLE.md, Layout): no import circles, dependencies pointing down, no
oversized modules, and nothing read from outside the repository. The import graph is built from
the source with `ast`, so imports inside functions count as much as those at the top."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SKIPPED = {".venv", ".venv-peer", "migrations", "instance", "static", "templates", "__pycache__", ".git"}
MAX_LINES = 600
# models.py is the design card's one catalogue of tables; api_schemas.py is documentation only.
LONG_ALLOWED = {"models.py", "api_schemas.py"}
# Layers below the routes and auth: they never reach up (STYLE.md, "Dependencies only point down").
LOWER_LAYERS = ("services", "serializers", "emoji_packs", "federation", "streaming", "models")


def _sources() -> Iterator[Path]:
    for path in ROOT.rglob("*.py"):
        relative = path.relative_to(ROOT)
        if not SKIPPED & set(relative.parts):
            yield relative


def _module_name(relative: Path) -> str:
    parts = list(relative.with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imported(relative: Path, module: str) -> set[str]:
    tree = ast.parse((ROOT / relative).read_text())
    package = module if relative.name == "__init__.py" else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(path): path for path in _sources() if path.parts[0] not in ("tests", "bench")}
    return {name: (_imported(path, name) & modules.keys()) - {name} for name, path in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_circles():
    assert _cycles(_graph()) == []


def test_cycle_finder_sees_a_circle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_lower_layers_never_import_auth_or_routes():
    offenders = {
        name: sorted(t for t in targets if t == "auth" or t.split(".")[0] == "routes")
        for name, targets in _graph().items()
        if name.split(".")[0] in LOWER_LAYERS
    }
    assert {name: bad for name, bad in offenders.items() if bad} == {}


def test_no_module_over_600_lines():
    long = {
        str(path): count
        for path in _sources()
        if path.name not in LONG_ALLOWED
        and (count := len((ROOT / path).read_text().splitlines())) > MAX_LINES
    }
    assert long == {}


def test_nothing_reads_outside_the_repository():
    # A clone of the repository alone must pass `make test`: no path climbs out of it.
    offenders = [
        str(path)
        for path in _sources()
        if path != Path("tests/test_layout.py")
        and any(marker in (ROOT / path).read_text() for marker in ('"shared"', "../shared", "ROOT.parent"))
    ]
    assert offenders == []
