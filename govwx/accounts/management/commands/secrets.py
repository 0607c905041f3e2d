"""`govwx secrets reseal`: after a key rotation, every stored secret (AppSecrets, tokens,
EncodingAESKeys, channel addresses and signing secrets) encrypted again under the current
key, so that the old key can be taken out of the fallbacks (docs/deploy.md)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from govwx.lib.secretbox import SecretError, reseal_all


class Command(BaseCommand):
    help = "Stored secrets: reseal (encrypt again under the current key after a rotation)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("reseal", help="encrypt every stored secret again under the current key")

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            done = reseal_all()
        except SecretError as exc:
            raise CommandError(f"{exc}: nothing was changed") from exc
        for name, n in done.items():
            self.stdout.write(f"{name}\t{n}")
        self.stdout.write(f"resealed {sum(done.values())} stored secrets under the current key")
