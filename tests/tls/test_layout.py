"""The engine's modules form layers: no import cycle, not even one for type checking."""

from __future__ import annotations

import ast
from pathlib import Path

import tlsbench.tls

ROOT = Path(tlsbench.tls.__file__).parent


def _modules() -> dict[str, Path]:
    found = {}
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(("tls", *parts))] = path
    return found


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Modules of the engine that ``name`` imports (relative imports, at any depth)."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[: len(package) - (node.level - 1)]
            target = ".".join(base + ([node.module] if node.module else []))
            subs = {f"{target}.{a.name}" for a in node.names} & modules.keys()
            found |= subs or ({target} & modules.keys())
    return found - {name}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    cycles = []
    done: set[str] = set()

    def visit(node: str, stack: list[str]) -> None:
        for dep in sorted(graph[node]):
            if dep in stack:
                cycles.append([*stack[stack.index(dep) :], dep])
            elif dep not in done:
                visit(dep, [*stack, dep])
        done.add(node)

    for node in sorted(graph):
        if node not in done:
            visit(node, [node])
    return cycles


def test_no_import_cycles() -> None:
    modules = _modules()
    graph = {name: _imports(name, path, modules) for name, path in modules.items()}
    assert graph["tls.client.connection"] >= {"tls.client.tls13", "tls.client.tls12"}
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]


def test_shared_pieces_import_neither_side() -> None:
    modules = _modules()
    for shared in ("tls.certs", "tls.signatures", "tls.keyexchange", "tls.sessions"):
        deps = _imports(shared, modules[shared], modules)
        assert not {d for d in deps if d.startswith(("tls.client", "tls.server"))}, shared


def test_no_file_passes_600_lines() -> None:
    long = {p.name: n for p in ROOT.rglob("*.py") if (n := len(p.read_text().splitlines())) > 600}
    assert long == {}
