"""`govwx sandbox register …`: register a sandbox account without a running server, so a
demo seeding step can point the simulated platform at govwx before anything listens."""

from __future__ import annotations

import argparse
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ... import services


class Command(BaseCommand):
    help = "Manage the WeChat platform sandbox (register accounts)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        register = sub.add_parser("register", help="register or update an account by AppID")
        for option in ("name", "appid", "secret", "token"):
            register.add_argument(f"--{option}", required=True)
        register.add_argument("--aes-key", dest="aes_key", default="")
        register.add_argument("--mode", default="safe", choices=["plaintext", "compatible", "safe"])
        register.add_argument("--callback-url", dest="callback_url", default="")
        register.add_argument("--original-id", dest="original_id", default="")
        register.add_argument(
            "--verify",
            action=argparse.BooleanOptionalAction,
            default=False,
            help="check the callback URL with the GET echo first",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        fields = (
            "name",
            "appid",
            "secret",
            "token",
            "aes_key",
            "mode",
            "callback_url",
            "original_id",
        )
        try:
            values = services.clean_account({f: options[f] for f in fields})
            account, created = services.register_account(values, verify=options["verify"])
        except services.InvalidInput as exc:
            raise CommandError(str(exc)) from exc
        verb = "registered" if created else "updated"
        self.stdout.write(f"{verb} {account.appid} ({account.original_id}) mode={account.mode}")
