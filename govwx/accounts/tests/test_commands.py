"""`govwx account add|list` from the shell."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from govwx.accounts.models import Account

pytestmark = pytest.mark.django_db
GOOD = [
    "--name",
    "示例县发布",
    "--appid",
    "wx1234567890abcdef",
    "--secret",
    "sec",
    "--token",
    "tok123",
    "--aes-key",
    "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
    "--mode",
    "safe",
    "--original-id",
    "gh_0123456789ab",
]


def test_it_adds_an_account_with_secrets_encrypted_at_rest() -> None:
    out = io.StringIO()
    call_command("account", "add", *GOOD, stdout=out)
    assert "/wx/wx1234567890abcdef/callback" in out.getvalue()
    a = Account.objects.get()
    assert (a.name, a.token, a.app_secret, a.mode) == ("示例县发布", "tok123", "sec", "safe")
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT app_secret, token, aes_key FROM accounts_account")
        stored = cur.fetchone()
    assert "sec" not in stored[0] and "tok123" not in stored[1] and "abcdefgh" not in stored[2]
    out = io.StringIO()
    call_command("account", "list", stdout=out)
    assert "wx1234567890abcdef\tsafe\tsubscription\t示例县发布" in out.getvalue()


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--appid", "wx123", "AppID"),
        ("--appid", "WX1234567890ABCDEF", "AppID"),
        ("--aes-key", "tooshort", "EncodingAESKey"),
        ("--aes-key", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEF!", "EncodingAESKey"),
        ("--token", "t", "Token"),
        ("--original-id", "gh_xyz", "gh_"),
    ],
)
def test_it_rejects_bad_values_with_a_clear_message(flag: str, value: str, message: str) -> None:
    args = list(GOOD)
    args[args.index(flag) + 1] = value
    with pytest.raises(CommandError) as exc:
        call_command("account", "add", *args)
    assert message in str(exc.value)
    assert not Account.objects.exists()


def test_it_rejects_a_duplicate_appid() -> None:
    call_command("account", "add", *GOOD, stdout=io.StringIO())
    with pytest.raises(CommandError, match="已存在"):
        call_command("account", "add", *GOOD)
    assert Account.objects.count() == 1
