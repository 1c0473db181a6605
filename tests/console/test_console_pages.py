"""The console's page modules share their guard, templates and forms through service.console.pages:
none reaches into another's private names, and each controller answers with the same guard."""

from __future__ import annotations

import ast
from pathlib import Path

from service.console import pages
from service.console.capability import CAPABILITY

CONSOLE = Path(pages.__file__).resolve().parent


def test_no_console_module_imports_another_ones_private_names() -> None:
    private: list[str] = []
    for module in sorted(CONSOLE.glob("*.py")):
        tree = ast.parse(module.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("service."):
                private += [f"{module.name}: {node.module}.{a.name}" for a in node.names if a.name.startswith("_")]
    assert private == []


def test_the_page_modules_import_nothing_from_the_routes_module() -> None:
    for name in ("accounts.py", "admin.py", "passkeys.py", "pages.py"):
        assert "service.console.routes" not in (CONSOLE / name).read_text(), name


def test_every_console_page_controller_is_guarded_by_the_one_guard() -> None:
    controllers = [c for c in CAPABILITY.routes if c.__name__ != "ConsoleAssetsController"]
    assert len(controllers) == 5
    for controller in controllers:
        assert controller.guards == [pages.console_guard], controller.__name__
        handlers = controller.exception_handlers or {}
        assert pages.SignInFirst in handlers, controller.__name__
