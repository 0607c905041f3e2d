"""Shared test fixtures: an account with its admin and operator, and an outsider who
belongs to another account."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command

from govwx.accounts.models import Account, Membership
from govwx.accounts.services import AccountInput, add_member, create_account
from govwx.inbox import runtime

AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
TOKEN = "pamtest"
APPID = "wxb11529c136998cb6"
ORIGINAL_ID = "gh_0123456789ab"


@pytest.fixture(autouse=True)
def _fresh_runtime() -> Any:
    """Each process keeps copies (compiled rules, the calendar): tests start without."""
    from govwx.workcalendar.services import forget

    runtime.clear()
    forget()
    yield
    runtime.clear()
    forget()


@pytest.fixture(autouse=True)
def _media_storage(settings: Any, tmp_path_factory: Any) -> None:
    """Media files (what citizens send) go to a directory of the test's own, and no
    account starts with its media fetches paused (a process's memory)."""
    from govwx.wechat import media

    media._paused.clear()
    root = tmp_path_factory.mktemp("media")
    settings.STORAGES = {
        **settings.STORAGES,
        "media": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root), "base_url": None},
        },
    }


@pytest.fixture
def cache_table(db: Any) -> None:
    call_command("createcachetable", verbosity=0)


@pytest.fixture
def checker_calls() -> Any:
    """Each call of the registered text checker, as (where, text); the real checker still
    answers."""
    from govwx.lib import textcheck

    calls: list[tuple[str, str]] = []
    real = textcheck.registered()
    assert real is not None

    def counting(account: Any, text: str, where: str) -> list[textcheck.Flag]:
        calls.append((where, text))
        return real(account, text, where)

    textcheck.register(counting)
    yield calls
    textcheck.register(real)


def make_account(
    appid: str = APPID,
    *,
    mode: str = Account.Mode.SAFE,
    name: str = "示例市发布",
    token: str = TOKEN,
    aes_key: str = AES_KEY,
) -> Account:
    return create_account(
        AccountInput(
            name=name,
            appid=appid,
            app_secret="s3cr3t-" + appid,
            token=token,
            aes_key=aes_key,
            mode=mode,
            original_id=ORIGINAL_ID,
        )
    )


@pytest.fixture
def account(db: Any) -> Account:
    return make_account()


@pytest.fixture
def other_account(db: Any) -> Account:
    return make_account("wx00000000000000ff", name="另一个县发布")


@pytest.fixture
def operator(account: Account, django_user_model: Any) -> Any:
    user = django_user_model.objects.create_user("operator", password="pw-operator-1")
    add_member(account, user, Membership.Role.OPERATOR)
    return user


@pytest.fixture
def account_admin(account: Account, django_user_model: Any) -> Any:
    user = django_user_model.objects.create_user("acctadmin", password="pw-admin-1")
    add_member(account, user, Membership.Role.ADMIN)
    return user


@pytest.fixture
def outsider(other_account: Account, django_user_model: Any) -> Any:
    user = django_user_model.objects.create_user("outsider", password="pw-outsider-1")
    add_member(other_account, user, Membership.Role.OPERATOR)
    return user


# ------------------------------------------------------------------ browser tests
# Playwright drives Debian's Chromium (never a downloaded browser). Where no Chromium is
# installed the browser tests are skipped, and the run says so at the end.
import os  # noqa: E402
import shutil  # noqa: E402

CHROMIUM = os.environ.get("GOVWX_CHROMIUM") or shutil.which("chromium") or ""
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-dev-shm-usage",
]
# Playwright's sync API runs an event loop in the test thread; the ORM must still work.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    if not CHROMIUM:
        pytest.skip("Chromium not found: browser tests skipped (apt-get install chromium)")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": CHROMIUM_ARGS,
        "headless": True,
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_context_args, "locale": "zh-CN", "timezone_id": "Asia/Shanghai"}


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not CHROMIUM:
        terminalreporter.write_line(
            "NOTE: no Chromium found, so the browser tests were SKIPPED "
            "(apt-get install chromium fonts-wqy-microhei)",
            yellow=True,
            bold=True,
        )


@pytest.fixture
def demo_site(live_server: Any, settings: Any) -> str:
    """The demo (示例市发布, its rules, departments and users) on a live server, registered
    in the sandbox, with a calendar (transactional tests start with empty tables)."""
    from govwx.console.management.commands import demo
    from govwx.workcalendar.services import forget, seed_from_package

    settings.GOVWX_WECHAT_API_BASE = live_server.url + "/sandbox"
    settings.GOVWX_PUBLIC_URL = live_server.url
    settings.GOVWX_RULES_TTL = 0  # the next message sees a rule change at once
    seed_from_package()
    forget()
    demo.register_in_sandbox(demo.seed(), live_server.url)
    return str(live_server.url)
