"""`govwx services import|export`: an organisation's own catalogue as CSV or Excel."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from govwx.accounts.models import Organisation
from govwx.services.io import CatalogueImportError, export_csv, export_xlsx, import_catalogue


def _organisation(ref: str) -> Organisation:
    found = list(Organisation.objects.filter(pk=int(ref)) if ref.isdigit() else [])
    found = found or list(Organisation.objects.filter(name=ref)[:2])
    if not found:
        raise CommandError(f"没有这个组织：{ref} / no organisation {ref!r}")
    if len(found) > 1:
        raise CommandError(f"有多个名为 {ref} 的组织，请用编号 / several named {ref!r}: use the id")
    return found[0]


class Command(BaseCommand):
    help = "Import or export an organisation's service catalogue (CSV or .xlsx)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="insert or update services and offices by code")
        imp.add_argument("--org", required=True, help="organisation id or name")
        imp.add_argument("file", help=".csv or .xlsx")
        exp = sub.add_parser("export", help="write the organisation's own catalogue")
        exp.add_argument("--org", required=True, help="organisation id or name")
        exp.add_argument("--offices", action="store_true", help="CSV: the offices table")
        exp.add_argument("file", help=".csv or .xlsx (both tables)")

    def handle(self, *args: Any, **opts: Any) -> None:
        org = _organisation(opts["org"])
        path = Path(opts["file"])
        if opts["action"] == "import":
            try:
                content = path.read_bytes()
            except OSError as exc:
                raise CommandError(f"无法读取文件 / cannot read file: {exc}") from exc
            try:
                result = import_catalogue(org, path.name, content)
            except CatalogueImportError as exc:
                raise CommandError("\n".join(exc.errors)) from exc
            except ValidationError as exc:
                raise CommandError("; ".join(exc.messages)) from exc
            self.stdout.write(
                f"新增事项 {len(result.services_created)}，更新 {len(result.services_updated)}；"
                f"新增网点 {len(result.offices_created)}，更新 {len(result.offices_updated)}；"
                f"未变 {result.unchanged} / services created {len(result.services_created)}, "
                f"updated {len(result.services_updated)}; offices created "
                f"{len(result.offices_created)}, updated {len(result.offices_updated)}; "
                f"unchanged {result.unchanged}"
            )
            if result.notes:
                self.stderr.write(
                    f"校对提示 {len(result.notes)} 条（已导入） / proofreading notes:"
                )
                for note in result.notes:
                    self.stderr.write(f"  {note}")
            return
        if path.suffix.lower() == ".xlsx":
            data = export_xlsx(org)
        elif path.suffix.lower() == ".csv":
            data = export_csv(org, "offices" if opts["offices"] else "services")
        else:
            raise CommandError("文件名须以 .csv 或 .xlsx 结尾 / the file must end in .csv or .xlsx")
        try:
            path.write_bytes(data)
        except OSError as exc:
            raise CommandError(f"无法写入文件 / cannot write file: {exc}") from exc
        self.stdout.write(f"已导出到 {path} / exported to {path}")
