"""`govwx proofread [FILE]`: proofread texts from the shell, one text a line.

Reads UTF-8 text from FILE (standard input without one); each line is one text, its line
break not part of it. Prints each finding as

    LINE:START-END SEVERITY FAMILY 「TEXT」→「SUGGESTION」 MESSAGE

(offsets in characters within the line, the suggestion part only when there is one), or
with --json one object a line for every input line, in order:
{"line": N, "findings": [{"start", "end", "text", "family", "severity", "message",
"suggestion"}]}.

--family NAME (repeatable) runs only those rule families. --account APPID checks with
what that account knows (its departments, places, word lists: `context_for(account)`);
without it, with the lists shipped with the checker only, and no database is read.

Exit status: 0 when the texts were checked, findings or not; 1 with --fail-on SEVERITY
when a finding of that severity or a graver one was found (for CI checks of texts); 2 on
bad input (an unknown account, a file that cannot be read, text that is not UTF-8).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, BinaryIO

from django.core.management.base import BaseCommand, CommandError, CommandParser

from govwx.accounts.models import Account
from govwx.content.proofread import (
    ERROR,
    FAMILIES,
    FAMILY_NAMES,
    VETO,
    WARNING,
    Context,
    Finding,
    check,
)

GRAVITY = {VETO: 0, ERROR: 1, WARNING: 2}
BAD_INPUT = 2
FOUND = 1


class Command(BaseCommand):
    help = "校对文本（每行一段）/ Proofread texts, one a line."
    stealth_options = ("stdin",)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", nargs="?", help="UTF-8 text file (standard input when omitted)")
        parser.add_argument("--json", action="store_true", help="one JSON object per input line")
        parser.add_argument("--account", metavar="APPID", help="check with this account's lists")
        parser.add_argument(
            "--family",
            action="append",
            choices=FAMILY_NAMES,
            help="only this family of rules (repeat for several; all when omitted)",
        )
        parser.add_argument(
            "--fail-on",
            choices=[ERROR, VETO],
            help="exit with status 1 when a finding of this severity or graver is found",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        context = self._context(opts["account"])
        lines = self._lines(opts["file"], opts.get("stdin"))
        worst: str | None = None
        for number, line in enumerate(lines, 1):
            findings = run(line, context, opts["family"])
            if opts["json"]:
                record = {"line": number, "findings": [f.as_json() for f in findings]}
                self.stdout.write(json.dumps(record, ensure_ascii=False))
            else:
                for f in findings:
                    self.stdout.write(plain(number, f))
            for f in findings:
                if worst is None or GRAVITY[f.severity] < GRAVITY[worst]:
                    worst = f.severity
        limit = opts["fail_on"]
        if limit and worst is not None and GRAVITY[worst] <= GRAVITY[limit]:
            raise CommandError(f"发现「{worst}」级问题 / found {worst} findings", returncode=FOUND)

    def _context(self, appid: str | None) -> Context:
        if appid is None:
            return Context()
        from govwx.content.proofread.context import context_for

        account = Account.objects.filter(appid=appid).first()
        if account is None:
            raise CommandError(
                f"没有 AppID 为 {appid} 的公众号 / unknown account", returncode=BAD_INPUT
            )
        return context_for(account)

    def _lines(self, file: str | None, stdin: BinaryIO | None) -> list[str]:
        if file is None:
            data = (stdin or sys.stdin.buffer).read()
            name = "标准输入 / standard input"
        else:
            try:
                data = Path(file).read_bytes()
            except OSError as exc:
                raise CommandError(
                    f"无法读取文件 / cannot read {file}: {exc.strerror}", returncode=BAD_INPUT
                ) from exc
            name = file
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise CommandError(
                f"{name} 不是 UTF-8 文本 / not UTF-8 (byte {exc.start})", returncode=BAD_INPUT
            ) from exc
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()  # the final line break ends the last line, it opens none
        return [line.removesuffix("\r") for line in lines]


def run(text: str, context: Context, only: list[str] | None) -> list[Finding]:
    """`check`, or only the families named, in the same order."""
    if not only:
        return check(text, context)
    from govwx.content.proofread import families  # noqa: F401  (registers them)

    found = {f for name in only if name in FAMILIES for f in FAMILIES[name](text, context)}
    return sorted(found, key=lambda f: (f.start, f.end, GRAVITY[f.severity], f.family))


def plain(number: int, f: Finding) -> str:
    change = f"「{f.text}」→「{f.suggestion}」" if f.suggestion else f"「{f.text}」"
    return f"{number}:{f.start}-{f.end} {f.severity} {f.family} {change} {f.message}"
