"""The shape of the package, checked from its source (issue 18): no database, no app.

- The domain knows nothing of Flask: only the web side (routes, the app factory, the
  request-side auth and error modules, the CLI, the staff console) imports Flask,
  flask-smorest, werkzeug or flask extensions, and no other module imports the web side.
- Modules import each other without a cycle (module-level imports; ``if TYPE_CHECKING:``
  blocks and imports inside functions are not run at import time).
- ``agency/jobs`` imports no domain module (jobs register by name); ``seekers`` does not
  import ``introductions``; models take ``Scope`` from ``agency.access``.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from fnmatch import fnmatch
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "agency"

WEB_FRAMEWORK = ("flask", "flask_smorest", "flask_limiter", "flask_wtf", "werkzeug", "webargs")

# The web side, which may import Flask. Every other module is the domain (services, models,
# jobs, schemas' rules) and must not, nor import any of these.
WEB_SIDE = (
    "agency",  # create_app, the app factory
    "agency.api",  # flask-smorest Api, blueprints, pagination header
    "agency.auth",  # the request's principal, @requires
    "agency.web",  # per-request session, request hooks, what an auditor reads
    "agency.web.*",  # the web side's helpers: throttling, the public pages' cache
    "agency.error_handlers",  # DomainError and HTTP errors as JSON responses
    "agency.cli",  # flask --app wsgi <command>
    "agency.*.commands",  # the domains' CLI commands
    "agency.*routes",  # blueprints, one resource each
    "agency.*.*routes",
    "agency.health_routes",  # the health blueprint (liveness, readiness)
    "agency.console",  # the staff console: server-rendered pages over the services
    "agency.console.*",
)
# Marshmallow schemas are the edge too: they may ask the web side what the reader may see.
EDGE = ("agency.*schemas", "agency.*.*schemas")

DOMAIN_PACKAGES = (
    "accounts",
    "activities",
    "audit",
    "directory",
    "equality",
    "introductions",
    "isf",
    "oruk",
    "outcomes",
    "providers",
    "reports",
    "seekers",
    "visits",
    "webhooks",
)


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _top_level(body: list[ast.stmt]) -> Iterator[ast.Import | ast.ImportFrom]:
    """Imports run when the module is imported (not in functions, not for type checkers)."""
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If):
            if not _is_type_checking(node):
                yield from _top_level(node.body)
            yield from _top_level(node.orelse)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody):
                yield from _top_level(block)
            for handler in node.handlers:
                yield from _top_level(handler.body)


def _imported_names(module: str, path: Path, *, everywhere: bool) -> set[str]:
    """Absolute names ``module`` imports (``from a import b`` gives ``a.b`` when b is a module)."""
    tree = ast.parse(path.read_text())
    nodes = (
        [n for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom)]
        if everywhere
        else list(_top_level(tree.body))
    )
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
            continue
        base = node.module or ""
        if node.level:
            anchor = package
            for _ in range(node.level - 1):
                anchor = anchor.rpartition(".")[0]
            base = f"{anchor}.{base}" if base else anchor
        names.add(base)
        names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def _agency_imports(module: str, *, everywhere: bool = False) -> set[str]:
    """The agency modules ``module`` imports, each resolved to a module file."""
    found = set()
    for name in _imported_names(module, MODULES[module], everywhere=everywhere):
        if name.split(".")[0] != "agency":
            continue
        while name not in MODULES:
            name = name.rpartition(".")[0]
        if name != module:
            found.add(name)
    return found


def _matches(module: str, patterns: tuple[str, ...]) -> bool:
    return any(module == pattern or fnmatch(module, pattern) for pattern in patterns)


def test_the_domain_imports_no_web_framework() -> None:
    offenders = []
    for module, path in sorted(MODULES.items()):
        if _matches(module, WEB_SIDE):
            continue
        # Schemas are the edge: webargs' fields (DelimitedList) are marshmallow fields.
        framework = WEB_FRAMEWORK[:-1] if _matches(module, EDGE) else WEB_FRAMEWORK
        for name in sorted(_imported_names(module, path, everywhere=True)):
            if name.split(".")[0] in framework:
                offenders.append(f"{module} imports {name}")
        if "current_app" in path.read_text():
            offenders.append(f"{module} mentions current_app")
    assert not offenders, "Flask below the web side:\n" + "\n".join(offenders)


def test_the_domain_imports_nothing_from_the_web_side() -> None:
    offenders = [
        f"{module} imports {imported}"
        for module in sorted(MODULES)
        if not _matches(module, WEB_SIDE + EDGE)
        for imported in sorted(_agency_imports(module, everywhere=True))
        if _matches(imported, WEB_SIDE) and imported != "agency"
    ]
    assert not offenders, "the domain reaches into the web side:\n" + "\n".join(offenders)


def test_importing_a_domain_module_never_loads_flask() -> None:
    """Module-level imports only: a worker or script importing a service does not load Flask."""
    graph = {module: _agency_imports(module) for module in MODULES}
    offenders = []
    for module in sorted(MODULES):
        if _matches(module, WEB_SIDE + EDGE):
            continue
        seen, todo = {module}, [module]
        while todo:
            current = todo.pop()
            names = _imported_names(current, MODULES[current], everywhere=False)
            if any(name.split(".")[0] in WEB_FRAMEWORK[:-1] for name in names):
                offenders.append(f"{module} (through {current})")
                break
            for imported in graph[current] - seen:
                seen.add(imported)
                todo.append(imported)
    assert not offenders, "loads Flask when imported: " + ", ".join(offenders)


def test_a_worker_process_loads_no_flask() -> None:
    """The worker's imports (every model and job module, the worker itself) run without Flask."""
    script = (
        "import sys; import agency.bootstrap, agency.worker; agency.bootstrap.load_everything(); "
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & {set(WEB_FRAMEWORK)!r}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one member (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_module_level_import_cycle() -> None:
    graph = {module: _agency_imports(module) for module in MODULES}
    cycles = _cycles(graph)
    assert not cycles, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in cycles)


def test_jobs_import_no_domain_module() -> None:
    """Jobs register by name; the composition root imports the modules that register them."""
    offenders = [
        f"{module} imports {imported}"
        for module in sorted(MODULES)
        if module.startswith("agency.jobs") and not module.endswith("routes")
        for imported in sorted(_agency_imports(module, everywhere=True))
        if imported.split(".")[1] in DOMAIN_PACKAGES
    ]
    assert not offenders, "\n".join(offenders)


def test_seekers_do_not_import_introductions() -> None:
    offenders = [
        f"{module} imports {imported}"
        for module in sorted(MODULES)
        if module.startswith("agency.seekers")
        for imported in sorted(_agency_imports(module, everywhere=True))
        if imported.startswith("agency.introductions")
    ]
    assert not offenders, "\n".join(offenders)


def test_access_rules_live_in_agency_access() -> None:
    """Models and services take Principal, Scope and visible_to from the Flask-free module."""
    assert not (_agency_imports("agency.access", everywhere=True) - {"agency.errors"})
    offenders = [
        module
        for module in sorted(MODULES)
        if not _matches(module, WEB_SIDE)
        and "agency.auth" in _agency_imports(module, everywhere=True)
    ]
    assert not offenders, "import the web-side agency.auth: " + ", ".join(offenders)
