"""`govwx rules import|export`: rule sets as JSON files."""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from govwx.accounts.models import Account
from govwx.replies.services import export_ruleset, import_ruleset


def _account(appid: str) -> Account:
    try:
        return Account.objects.get(appid=appid)
    except Account.DoesNotExist as exc:
        raise CommandError(f"没有 AppID 为 {appid} 的公众号 / no account {appid}") from exc


class Command(BaseCommand):
    help = "Import or export an account's auto-reply rules (JSON)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="replace the account's rules with a file's")
        imp.add_argument("--account", required=True, help="AppID")
        imp.add_argument("file", help="JSON file, or - for standard input")
        exp = sub.add_parser("export", help="write the account's rules as JSON")
        exp.add_argument("--account", required=True, help="AppID")
        exp.add_argument("file", nargs="?", default="-", help="output file (default stdout)")

    def handle(self, *args: Any, **opts: Any) -> None:
        account = _account(opts["account"])
        if opts["action"] == "import":
            try:
                if opts["file"] == "-":
                    doc = json.load(sys.stdin)
                else:
                    with open(opts["file"], encoding="utf-8") as f:
                        doc = json.load(f)
            except OSError as exc:
                raise CommandError(f"无法读取文件 / cannot read file: {exc}") from exc
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise CommandError(f"不是有效的 JSON / not valid JSON: {exc}") from exc
            notes: list[str] = []
            try:
                n = import_ruleset(account, doc, notes=notes)
            except ValidationError as exc:
                raise CommandError("\n".join(exc.messages)) from exc
            self.stdout.write(f"已导入 {n} 条规则 / imported {n} rules into {account.appid}")
            if notes:
                self.stderr.write(f"校对提示 {len(notes)} 条（已导入） / proofreading notes:")
                for note in notes:
                    self.stderr.write(f"  {note}")
            return
        text = json.dumps(export_ruleset(account), ensure_ascii=False, indent=1)
        if opts["file"] == "-":
            self.stdout.write(text)
        else:
            with open(opts["file"], "w", encoding="utf-8") as f:
                f.write(text + "\n")
