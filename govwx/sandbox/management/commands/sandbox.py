"""`govwx sandbox register …`: register a sandbox account without a running server, so a
demo seeding step can point the simulated platform at govwx before anything listens.
`govwx sandbox run-jobs`: end the publish tasks and mass sends that are due (see jobs.py)."""

from __future__ import annotations

import argparse
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ... import jobs, services
from ...models import Account


class Command(BaseCommand):
    help = "Manage the WeChat platform sandbox (register accounts, run due jobs)."

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
            "--type",
            dest="type",
            default=None,
            choices=["subscription", "service"],
            help="订阅号 or 服务号 (new accounts: subscription; updates keep the type)",
        )
        register.add_argument(
            "--verified",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="认证: mass send needs it (new accounts: verified)",
        )
        register.add_argument(
            "--verify",
            action=argparse.BooleanOptionalAction,
            default=False,
            help="check the callback URL with the GET echo first",
        )
        run = sub.add_parser("run-jobs", help="end the due publish tasks and mass sends")
        run.add_argument("--appid", default="", help="only this account's")
        run.add_argument("--all", action="store_true", help="end every pending one, due or not")
        run.add_argument(
            "--every", type=float, default=0, help="keep running, every SECONDS (0: once)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "run-jobs":
            self._run_jobs(options)
            return
        fields = (
            "name",
            "appid",
            "secret",
            "token",
            "aes_key",
            "mode",
            "callback_url",
            "original_id",
            "type",
            "verified",
        )
        try:
            values = services.clean_account({f: options[f] for f in fields})
            account, created = services.register_account(values, verify=options["verify"])
        except services.InvalidInput as exc:
            raise CommandError(str(exc)) from exc
        verb = "registered" if created else "updated"
        self.stdout.write(f"{verb} {account.appid} ({account.original_id}) mode={account.mode}")

    def _run_jobs(self, options: dict[str, Any]) -> None:
        account = None
        if options["appid"]:
            account = Account.objects.filter(appid=options["appid"]).first()
            if account is None:
                raise CommandError(
                    f"沙箱中没有 AppID 为 {options['appid']} 的公众号 / unknown appid"
                )
        while True:
            for done in jobs.run_due(account, everything=options["all"]):
                ident = done.get("publish_id") or done.get("msg_id")
                status = done.get("publish_status", done.get("msg_status"))
                self.stdout.write(f"{done['kind']} {ident} status={status}")
            if options["every"] <= 0:
                return
            time.sleep(options["every"])
