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
    "content": {"lib", "accounts", "workcalendar", "wechat", "replies", "notify", "team"},
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
        "content",
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
        "content",
        "inbox",
    },  # fmt: skip
    "sandbox": set(),
}


def imports_of(path: Path) -> set[str]:
    """The govwx apps a module imports."""
    package = list(path.relative_to(ROOT.parent).parent.parts)
    return imports_in(path.read_text(encoding="utf-8"), package)


def imports_in(source: str, package: list[str]) -> set[str]:
    """The govwx apps a module's source imports: `import govwx.x`, `from govwx.x import
    y`, `from govwx import x` and relative imports that climb out of the app (`from ..x
    import y`, `from ... import x`), resolved against the module's `package`."""
    tree = ast.parse(source)
    found = set()
    for node in ast.walk(tree):
        names: list[list[str]] = []
        if isinstance(node, ast.Import):
            names = [a.name.split(".") for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1] if node.level > 1 else package
                if node.level > len(package):
                    continue
            else:
                base = []
            module = base + (node.module.split(".") if node.module else [])
            # `from govwx import x` and `from ... import x` name the apps themselves
            names = [module + [a.name] for a in node.names] if module == ["govwx"] else [module]
        for parts in names:
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


@pytest.mark.parametrize(
    "source",
    [
        "import govwx.desk.services",
        "from govwx.desk import services",
        "from govwx.desk.services import assign_case",
        "from govwx import desk",
        "from govwx import lib, desk",
        "from ..desk import services",
        "from .. import desk",
    ],
)
def test_it_catches_every_way_of_importing_an_app(source: str) -> None:
    # a module of `team` (floor 2), govwx/team/x.py, importing the desk (floor 3)
    package = ["govwx", "team"]
    wrong = imports_in(source, package) - ALLOWED["team"] - {"team"}
    assert wrong == {"desk"}


def test_relative_imports_inside_the_app_are_the_apps_own() -> None:
    assert imports_in("from ..services import failing", ["govwx", "notify", "templatetags"]) == {
        "notify"
    }
    assert imports_in("from . import services", ["govwx", "notify"]) == {"notify"}
    sandbox_command = ["govwx", "sandbox", "management", "commands"]
    assert imports_in("from ... import services", sandbox_command) == {"sandbox"}
