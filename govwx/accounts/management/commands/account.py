"""`govwx account add|list`: manage accounts from the shell."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from govwx.accounts.models import Account
from govwx.accounts.services import AccountInput, create_account


class Command(BaseCommand):
    help = "Manage WeChat Official Accounts (公众号)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="register an account")
        add.add_argument("--name", required=True)
        add.add_argument("--appid", required=True)
        add.add_argument("--secret", required=True, help="AppSecret")
        add.add_argument("--token", required=True)
        add.add_argument("--aes-key", default="", help="EncodingAESKey (43 characters)")
        add.add_argument("--mode", default="safe", choices=Account.Mode.values)
        add.add_argument("--kind", default="subscription", choices=Account.Kind.values)
        add.add_argument("--original-id", default="", help="the gh_… id")
        add.add_argument("--positioning", default="")
        sub.add_parser("list", help="list accounts")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["action"] == "list":
            for a in Account.objects.order_by("id"):
                self.stdout.write(f"{a.appid}\t{a.mode}\t{a.kind}\t{a.name}")
            return
        data = AccountInput(
            name=opts["name"],
            appid=opts["appid"],
            app_secret=opts["secret"],
            token=opts["token"],
            aes_key=opts["aes_key"],
            mode=opts["mode"],
            kind=opts["kind"],
            original_id=opts["original_id"],
            positioning=opts["positioning"],
        )
        try:
            account = create_account(data)
        except ValidationError as exc:
            lines = [f"{field}: {msg}" for field, msgs in exc.message_dict.items() for msg in msgs]
            raise CommandError("\n".join(lines)) from exc
        self.stdout.write(f"已创建公众号 / created account {account.appid} ({account.name})")
        self.stdout.write(f"回调地址 / callback URL: /wx/{account.appid}/callback")
