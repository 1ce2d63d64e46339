"""One home per concern (issue 18 §7): contest/ never imports worker/, the organizer pages of
contest/admin/ are in no import circle, and no module is over 400 lines of code.

Read from the source with ``ast`` (imports inside functions and ``TYPE_CHECKING`` blocks
count too); lines are counted as /work/shared/tools/code_shape.py counts them.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MAX_CODE_LINES = 400


def modules(package: str) -> dict[str, Path]:
    """Every module of a package by dotted name (``contest.admin.views``)."""
    found = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def imported(path: Path, name: str) -> set[str]:
    """The modules a module imports (``from a import b`` may name a module ``a.b``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def code_lines(path: Path) -> int:
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    return sum(1 for line in lines if line.strip() and not line.strip().startswith("#"))


def graph(package: str) -> dict[str, set[str]]:
    found = modules(package)
    return {
        name: {m for m in imported(path, name) if m in found and m != name} for name, path in found.items()
    }


def cycles_through(edges: dict[str, set[str]], members: set[str]) -> list[list[str]]:
    """Strongly connected groups of two modules or more that hold one of ``members`` (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                group.append(top)
                if top == node:
                    break
            if len(group) > 1 and members & set(group):
                groups.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return groups


def test_contest_never_imports_worker():
    offenders = {
        name: sorted(m for m in imported(path, name) if m == "worker" or m.startswith("worker."))
        for name, path in modules("contest").items()
    }
    assert {name: found for name, found in offenders.items() if found} == {}


def test_no_import_circle_through_the_admin_modules():
    edges = graph("contest")
    # The composition root: create_app imports every blueprint, and nothing it imports is loaded
    # through it (``from contest import create_app`` runs in commands and tests, not in the pages).
    edges = {name: targets - {"contest"} for name, targets in edges.items() if name != "contest"}
    admin = {name for name in edges if name == "contest.admin" or name.startswith("contest.admin.")}
    assert cycles_through(edges, admin) == []


def test_the_circle_finder_finds_a_circle():
    """The check above can fail: two modules importing each other are one group."""
    edges = {
        "contest.admin.views": {"contest.admin.vote_views"},
        "contest.admin.vote_views": {"contest.admin.views"},
    }
    assert cycles_through(edges, {"contest.admin.views"}) == [
        ["contest.admin.views", "contest.admin.vote_views"]
    ]
    assert cycles_through({"a": {"b"}, "b": set()}, {"a"}) == []


def test_relative_and_aliased_imports_are_read(tmp_path):
    module = tmp_path / "views.py"
    module.write_text("from . import services\nfrom ..worker import tasks as t\nimport worker.photo\n")
    assert {"contest.admin.services", "contest.worker.tasks", "worker.photo"} <= imported(
        module, "contest.admin.views"
    )


@pytest.mark.parametrize("package", ["contest", "worker"])
def test_no_module_over_400_lines_of_code(package):
    sizes = {name: code_lines(path) for name, path in modules(package).items()}
    assert {name: n for name, n in sizes.items() if n > MAX_CODE_LINES} == {}
