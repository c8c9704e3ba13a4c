"""Every library the code imports is declared in pyproject.toml, not only present because
something else happens to need it (``requests`` came with ``stripe``)."""

import ast
import importlib.metadata as metadata
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OURS = {"agency", "matching", "standin"}
# Part of a declared framework's own public API: Flask's werkzeug and click, Flask-WTF's WTForms.
WITH_THEIR_FRAMEWORK = {"werkzeug", "click", "wtforms"}


def normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def imported_modules() -> dict[str, str]:
    """Top-level third-party module -> one file importing it, for agency/ and matching/."""
    found: dict[str, str] = {}
    for package in ("agency", "matching"):
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.split(".")[0]
                    if top not in sys.stdlib_module_names and top not in OURS:
                        found.setdefault(top, str(path.relative_to(ROOT)))
    return found


def test_every_imported_library_is_a_declared_dependency():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {
        normalised(re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0])
        for requirement in project["dependencies"]
    }
    distributions = metadata.packages_distributions()
    imports = imported_modules()
    assert "requests" in imports  # the webhook sender's HTTP client
    undeclared = {
        module: where
        for module, where in imports.items()
        if module not in WITH_THEIR_FRAMEWORK
        and not declared & {normalised(d) for d in distributions.get(module, [module])}
    }
    assert not undeclared, f"imported but not declared in pyproject.toml: {undeclared}"
