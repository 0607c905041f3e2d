"""The house rule of docs/architecture.md: an app imports only from the floors below it,
and the sandbox and govwx never import each other."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ALLOWED: dict[str, set[str]] = {
    "lib": set(),
    "accounts": {"lib"},
    "workcalendar": {"lib", "accounts"},
    "wechat": {"lib", "accounts"},
    "replies": {"lib", "accounts", "wechat"},
    "notify": {"lib", "accounts"},
    "team": {"lib", "accounts", "workcalendar", "notify"},
    "desk": {"lib", "accounts", "workcalendar", "wechat", "replies", "notify", "team"},
    "services": {"lib", "accounts", "workcalendar", "wechat", "replies", "notify", "team"},
    "inbox": {
        "lib",
        "accounts",
        "workcalendar",
        "wechat",
        "replies",
        "notify",
        "team",
        "desk",
        "services",
    },  # fmt: skip
    "console": {
        "lib",
        "accounts",
        "workcalendar",
        "wechat",
        "replies",
        "notify",
        "team",
        "desk",
        "services",
        "inbox",
    },  # fmt: skip
    "sandbox": set(),
}


def imports_of(path: Path) -> set[str]:
    """The govwx apps a module imports (absolute `govwx.x` imports)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        for name in names:
            parts = name.split(".")
            if parts[0] == "govwx" and len(parts) > 1:
                found.add(parts[1])
    return found


def modules(app: str) -> list[Path]:
    return [
        p
        for p in (ROOT / app).rglob("*.py")
        if "tests" not in p.parts and "migrations" not in p.parts
    ]


@pytest.mark.parametrize("app", sorted(ALLOWED))
def test_an_app_imports_only_from_below(app: str) -> None:
    wrong = {
        str(p.relative_to(ROOT)): sorted(imports_of(p) - ALLOWED[app] - {app})
        for p in modules(app)
        if imports_of(p) - ALLOWED[app] - {app}
    }
    assert wrong == {}


def test_the_sandbox_imports_nothing_of_govwx_and_nothing_imports_it() -> None:
    for p in (ROOT / "sandbox").rglob("*.py"):
        assert imports_of(p) <= {"sandbox"}, p
    for p in ROOT.rglob("*.py"):
        if "sandbox" in p.parts or p.name in {"urls.py", "settings.py", "test_layers.py"}:
            continue
        assert "sandbox" not in imports_of(p), p
