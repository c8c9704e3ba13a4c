"""The console holds no business rule: its views read forms, call services and render.

A static check over agency/console/: nothing there writes to the database itself (no
commit, add, delete, flush, no INSERT/UPDATE/DELETE or raw SQL built), so every change a
page makes goes through the same service function as the API's.
"""

from __future__ import annotations

import ast
from pathlib import Path

import agency.console

CONSOLE = Path(agency.console.__file__).parent
WRITES = {"commit", "add", "add_all", "delete", "flush", "merge", "bulk_save_objects"}
STATEMENTS = {"insert", "update", "delete", "text"}  # execute() is left for SELECTs only


def _modules() -> list[Path]:
    return sorted(CONSOLE.glob("*.py"))


def test_console_modules_never_write_to_the_database_themselves():
    offences = []
    for path in _modules():
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            call = isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            if call and node.func.attr in WRITES:
                offences.append(f"{path.name}:{node.lineno} .{node.func.attr}()")
            if isinstance(node, ast.ImportFrom) and node.module == "sqlalchemy":
                for alias in node.names:
                    if alias.name in STATEMENTS:
                        offences.append(f"{path.name}:{node.lineno} imports {alias.name}")
    assert offences == []


def test_every_console_form_post_goes_through_a_service_call():
    """Each POST view calls a function of a domain service module (not the console's own)."""
    services = {
        "introductions",
        "vetting",
        "compliance",
        "timesheets",
        "bulk_approval",
        "payouts",
        "payment_runs",
        "approval",
        "compliance_documents",
        "accounts",
    }
    for path in _modules():
        tree = ast.parse(path.read_text())
        for function in [n for n in tree.body if isinstance(n, ast.FunctionDef)]:
            routes = [
                d
                for d in function.decorator_list
                if isinstance(d, ast.Call)
                and isinstance(d.func, ast.Attribute)
                and d.func.attr == "route"
                and any(k.arg == "methods" and "POST" in ast.unparse(k.value) for k in d.keywords)
            ]
            if not routes:
                continue
            called = {
                n.func.value.id
                for n in ast.walk(function)
                if isinstance(n, ast.Call)
                and isinstance(n.func, ast.Attribute)
                and isinstance(n.func.value, ast.Name)
            }
            assert called & services, f"{path.name}:{function.name} calls no domain service"
