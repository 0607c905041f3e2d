"""Console pages of the service catalogue: the catalogue as the account sees it (own
rows and what it inherits from the city or province), services and offices, overriding
and withdrawing inherited ones, import and export. Thin: a form, one service, render."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Model
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from govwx.accounts.models import Account, Organisation
from govwx.accounts.permissions import console_view
from govwx.lib import textcheck

from . import catalogue
from .catalogue_writes import (
    create_office,
    create_service,
    delete_office,
    delete_service,
    lineage_departments,
    override_service,
    update_office,
    update_service,
    visible_offices,
    withdraw_office,
    withdraw_service,
)
from .forms import ImportForm, OfficeForm, ServiceForm
from .io import CatalogueImportError, export_csv, export_xlsx, import_catalogue
from .models import Category, Office, Service

ORIGINS = ("own", "inherited", "overridden", "withdrawn")


@dataclass
class Row:
    """One code of the catalogue as the account sees it."""

    item: Any  # Service | Office: the row that wins here
    own: bool  # the account's organisation's row
    base: Any  # the inherited row it overrides or withdraws (own rows), or None

    @property
    def overridden(self) -> bool:
        return self.own and self.base is not None and not self.item.withdrawn

    @property
    def withdrawn(self) -> bool:
        return bool(self.item.withdrawn)

    @property
    def origin(self) -> str:
        if self.withdrawn:
            return "withdrawn"
        if self.overridden:
            return "overridden"
        return "own" if self.own else "inherited"


def _rows(model: type[Model], org: Organisation) -> list[Row]:
    chain = catalogue.lineage(org)
    rank = {pk: i for i, pk in enumerate(chain)}
    qs: Any = model._default_manager.filter(organisation_id__in=chain).select_related(
        "organisation"
    )
    if model is Service:
        qs = qs.select_related("department")
    by_code: dict[str, list[Any]] = {}
    for r in sorted(qs, key=lambda r: rank[r.organisation_id]):
        by_code.setdefault(r.code, []).append(r)
    rows = []
    for versions in by_code.values():
        top = versions[0]
        own = top.organisation_id == org.pk
        rows.append(Row(top, own, versions[1] if own and len(versions) > 1 else None))
    return rows


def _org(account: Account) -> Organisation:
    if account.organisation is None:
        raise Http404("the account has no organisation")
    return account.organisation


def _own(model: type[Model], account: Account, pk: int) -> Any:
    """A row of the account's own organisation's catalogue, or 404."""
    try:
        return model._default_manager.select_related("organisation").get(
            pk=pk, organisation=_org(account)
        )
    except model.DoesNotExist as exc:  # type: ignore[attr-defined]
        raise Http404("not in this catalogue") from exc


def _inherited(model: type[Model], account: Account, pk: int) -> Any:
    """A row the account's organisation inherits (an ancestor's), or 404."""
    above = catalogue.lineage(_org(account))[1:]
    try:
        return model._default_manager.select_related("organisation").get(
            pk=pk, organisation_id__in=above
        )
    except model.DoesNotExist as exc:  # type: ignore[attr-defined]
        raise Http404("not inherited here") from exc


# ------------------------------------------------------------------ the catalogue


@console_view("services.view")
def catalogue_page(request: HttpRequest, account: Account) -> HttpResponse:
    org = account.organisation
    cat = request.GET.get("category", "")
    origin = request.GET.get("origin", "")
    q = request.GET.get("q", "").strip()[:50]
    rows = _rows(Service, org) if org is not None else []
    total = len(rows)
    if cat in Category.values:
        rows = [r for r in rows if r.item.category == cat]
    if origin in ORIGINS:
        rows = [r for r in rows if r.origin == origin]
    if q:
        needle = q.casefold()
        rows = [
            r
            for r in rows
            if needle in r.item.name.casefold()
            or needle in r.item.code.casefold()
            or any(needle in str(k).casefold() for k in r.item.keywords or [])
        ]
    rows.sort(key=lambda r: (r.item.position, r.item.code))
    groups = []
    for value, label in Category.choices:
        in_cat = [r for r in rows if r.item.category == value]
        if in_cat:
            groups.append({"value": value, "label": label, "rows": in_cat})
    return render(
        request,
        "services/catalogue.html",
        {
            "account": account,
            "organisation": org,
            "groups": groups,
            "shown": len(rows),
            "total": total,
            "categories": Category.choices,
            "origins": [
                ("own", _("本级")),
                ("inherited", _("继承上级")),
                ("overridden", _("本级覆盖")),
                ("withdrawn", _("本级不提供")),
            ],
            "category": cat,
            "origin": origin,
            "q": q,
            "hub_url": catalogue.hub_url(account),
        },
    )


# ------------------------------------------------------------------ services


def _service_form(account: Account, org: Organisation, data: Any = None, **kw: Any) -> ServiceForm:
    offices = sorted(visible_offices(org).values(), key=lambda o: o.code)
    return ServiceForm(data, departments=lineage_departments(org), offices=offices, **kw)


def _render_service_form(
    request: HttpRequest, account: Account, form: ServiceForm, **extra: Any
) -> HttpResponse:
    return render(
        request,
        "services/service_form.html",
        {"account": account, "form": form, "service": None, "inherited": None, **extra},
    )


def _refused(form: ServiceForm, exc: ValidationError) -> textcheck.TextRefused | None:
    """The checker's refusal, shown on its own panel; any other error on the form."""
    if isinstance(exc, textcheck.TextRefused):
        return exc
    form.add_service_errors(exc)
    return None


def _no_organisation(request: HttpRequest, account: Account) -> HttpResponse:
    return render(request, "services/catalogue_no_org.html", {"account": account})


@console_view("services.edit")
def service_create(request: HttpRequest, account: Account) -> HttpResponse:
    org = account.organisation
    if org is None:
        return _no_organisation(request, account)
    form = _service_form(account, org, request.POST or None)
    refused = None
    if request.method == "POST" and form.is_valid():
        data = form.to_input()
        warnings: list[textcheck.Found] = []
        try:
            s = create_service(
                data,
                account=account,
                actor=request.user,
                dismissing=textcheck.posted_dismiss(request.POST),
                warnings=warnings,
            )
        except ValidationError as exc:
            refused = _refused(form, exc)
        else:
            messages.success(request, _("已新建事项“%(name)s”") % {"name": s.name})
            textcheck.warn(request, warnings)
            return redirect("services:catalogue")
    return _render_service_form(request, account, form, refused=refused)


@console_view("services.edit")
def service_edit(request: HttpRequest, account: Account, pk: int) -> HttpResponse:
    service = _own(Service, account, pk)
    org = service.organisation
    refused = None
    if request.method == "POST":
        form = _service_form(account, org, request.POST)
        if form.is_valid():
            data = replace(form.to_input(), withdrawn=service.withdrawn)
            warnings: list[textcheck.Found] = []
            try:
                update_service(
                    service,
                    data,
                    account=account,
                    actor=request.user,
                    dismissing=textcheck.posted_dismiss(request.POST),
                    warnings=warnings,
                )
            except ValidationError as exc:
                refused = _refused(form, exc)
            else:
                messages.success(request, _("已保存事项“%(name)s”") % {"name": service.name})
                textcheck.warn(request, warnings)
                return redirect("services:catalogue")
    else:
        form = _service_form(account, org, initial=ServiceForm.initial_for(service))
    return _render_service_form(request, account, form, service=service, refused=refused)


@console_view("services.edit")
def service_override(request: HttpRequest, account: Account, pk: int) -> HttpResponse:
    """The form, filled with the inherited service, for a row of the account's own."""
    inherited = _inherited(Service, account, pk)
    org = _org(account)
    if Service.objects.filter(organisation=org, code=inherited.code).exists():
        own = Service.objects.get(organisation=org, code=inherited.code)
        return redirect("services:service_edit", pk=own.pk)
    refused = None
    if request.method == "POST":
        form = _service_form(account, org, request.POST)
        if form.is_valid():
            data = form.to_input()
            warnings: list[textcheck.Found] = []
            try:
                s = override_service(
                    inherited,
                    data,
                    account=account,
                    actor=request.user,
                    dismissing=textcheck.posted_dismiss(request.POST),
                    warnings=warnings,
                )
            except ValidationError as exc:
                refused = _refused(form, exc)
            else:
                messages.success(request, _("已在本级覆盖事项“%(name)s”") % {"name": s.name})
                textcheck.warn(request, warnings)
                return redirect("services:catalogue")
    else:
        initial = ServiceForm.initial_for(inherited)
        visible = visible_offices(org)
        initial["offices"] = [c for c in initial["offices"] if c in visible]
        form = _service_form(account, org, initial=initial)
    form.fields["code"].disabled = True
    form.fields["code"].initial = inherited.code
    return _render_service_form(request, account, form, inherited=inherited, refused=refused)


def _confirm(request: HttpRequest, account: Account, **ctx: Any) -> HttpResponse:
    return render(request, "services/catalogue_confirm.html", {"account": account, **ctx})


@console_view("services.edit")
def service_withdraw(request: HttpRequest, account: Account, pk: int) -> HttpResponse:
    inherited = _inherited(Service, account, pk)
    if request.method == "POST":
        try:
            withdraw_service(inherited, account=account, actor=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("services:catalogue")
        messages.success(request, _("本级已不提供“%(name)s”") % {"name": inherited.name})
        return redirect("services:catalogue")
    return _confirm(
        request,
        account,
        title=_("本级不提供此事项"),
        text=_("“%(name)s”（%(org)s）将不再出现在本公众号的服务大厅和查询中；之后可随时恢复。")
        % {"name": inherited.name, "org": inherited.organisation.name},
        button=_("本级不提供"),
        back="services:catalogue",
    )


@console_view("services.edit")
def service_delete(request: HttpRequest, account: Account, pk: int) -> HttpResponse:
    service = _own(Service, account, pk)
    base = _inherits(Service, account, service.code)
    if request.method == "POST":
        name = service.name
        try:
            delete_service(service, account=account, actor=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("services:catalogue")
        if base is not None:
            messages.success(request, _("已恢复上级的事项“%(name)s”") % {"name": base.name})
        else:
            messages.success(request, _("已删除事项“%(name)s”") % {"name": name})
        return redirect("services:catalogue")
    if base is not None:
        title = _("恢复上级事项")
        text = _("删除本级的“%(name)s”，改用%(org)s的版本。") % {
            "name": service.name,
            "org": base.organisation.name,
        }
        button = _("恢复上级事项")
    else:
        title = _("删除事项")
        text = _("删除“%(name)s”？下级组织继承的该事项也会一并消失。") % {"name": service.name}
        button = _("删除")
    return _confirm(
        request, account, title=title, text=text, button=button, back="services:catalogue"
    )


def _inherits(model: type[Model], account: Account, code: str) -> Any:
    chain = catalogue.lineage(_org(account))[1:]
    rank = {pk: i for i, pk in enumerate(chain)}
    rows: list[Any] = sorted(
        model._default_manager.filter(organisation_id__in=chain, code=code).select_related(
            "organisation"
        ),
        key=lambda r: rank[r.organisation_id],  # type: ignore[attr-defined]
    )
    return rows[0] if rows else None


# ------------------------------------------------------------------ offices


@console_view("services.view")
def offices_page(request: HttpRequest, account: Account) -> HttpResponse:
    org = account.organisation
    rows = _rows(Office, org) if org is not None else []
    rows.sort(key=lambda r: r.item.code)
    return render(
        request,
        "services/offices.html",
        {"account": account, "organisation": org, "rows": rows},
    )


def _render_office_form(
    request: HttpRequest, account: Account, form: OfficeForm, **extra: Any
) -> HttpResponse:
    return render(
        request,
        "services/office_form.html",
        {"account": account, "form": form, "office": None, "inherited": None, **extra},
    )


@console_view("services.edit")
def office_create(request: HttpRequest, account: Account) -> HttpResponse:
    if account.organisation is None:
        return _no_organisation(request, account)
    form = OfficeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            o = create_office(form.to_input(), account=account, actor=request.user)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("已新建网点“%(name)s”") % {"name": o.name})
            return redirect("services:offices")
    return _render_office_form(request, account, form)


@console_view("services.edit")
def office_edit(request: HttpRequest, account: Account, pk: int) -> HttpResponse:
    office = _own(Office, account, pk)
    form = OfficeForm(request.POST or None, initial=OfficeForm.initial_for(office))
    if request.method == "POST" and form.is_valid():
        data = form.to_input()
        try:
            update_office(
                office,
                replace(data, withdrawn=office.withdrawn),
                account=account,
                actor=request.user,
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("已保存网点“%(name)s”") % {"name": office.name})
            return redirect("services:offices")
    return _render_office_form(request, account, form, office=office)


@console_view("services.edit")
def office_override(request: HttpRequest, account: Account, pk: int) -> HttpResponse:
    inherited = _inherited(Office, account, pk)
    org = _org(account)
    own = Office.objects.filter(organisation=org, code=inherited.code).first()
    if own is not None:
        return redirect("services:office_edit", pk=own.pk)
    form = OfficeForm(request.POST or None, initial=OfficeForm.initial_for(inherited))
    form.fields["code"].disabled = True
    if request.method == "POST" and form.is_valid():
        try:
            o = create_office(form.to_input(), account=account, actor=request.user)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("已在本级覆盖网点“%(name)s”") % {"name": o.name})
            return redirect("services:offices")
    return _render_office_form(request, account, form, inherited=inherited)


@console_view("services.edit")
def office_withdraw(request: HttpRequest, account: Account, pk: int) -> HttpResponse:
    inherited = _inherited(Office, account, pk)
    if request.method == "POST":
        withdraw_office(inherited, account=account, actor=request.user)
        messages.success(request, _("本级已不显示网点“%(name)s”") % {"name": inherited.name})
        return redirect("services:offices")
    return _confirm(
        request,
        account,
        title=_("本级不显示此网点"),
        text=_("“%(name)s”（%(org)s）将不再出现在本公众号的办事指南中；之后可随时恢复。")
        % {"name": inherited.name, "org": inherited.organisation.name},
        button=_("本级不显示"),
        back="services:offices",
    )


@console_view("services.edit")
def office_delete(request: HttpRequest, account: Account, pk: int) -> HttpResponse:
    office = _own(Office, account, pk)
    base = _inherits(Office, account, office.code)
    if request.method == "POST":
        delete_office(office, account=account, actor=request.user)
        messages.success(request, _("已删除网点“%(name)s”") % {"name": office.name})
        return redirect("services:offices")
    if base is not None:
        text = _("删除本级的“%(name)s”，改用%(org)s的版本。") % {
            "name": office.name,
            "org": base.organisation.name,
        }
    else:
        text = _("删除网点“%(name)s”？引用它的事项将不再显示这一办理地点。") % {"name": office.name}
    return _confirm(
        request, account, title=_("删除网点"), text=text, button=_("删除"), back="services:offices"
    )


# ------------------------------------------------------------------ import, export


@console_view("services.edit")
def import_page(request: HttpRequest, account: Account) -> HttpResponse:
    org = account.organisation
    form = ImportForm(request.POST or None, request.FILES or None)
    errors: list[str] = []
    if request.method == "POST" and org is not None and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            result = import_catalogue(
                org, upload.name, upload.read(), account=account, actor=request.user
            )
        except CatalogueImportError as exc:
            errors = exc.errors
        except ValidationError as exc:
            errors = list(exc.messages)
        else:
            messages.success(
                request,
                _(
                    "导入完成：新增事项 %(sc)s 个、更新 %(su)s 个，新增网点 %(oc)s 个、更新 %(ou)s 个，"
                    "%(n)s 行没有变化。"
                )
                % {
                    "sc": len(result.services_created),
                    "su": len(result.services_updated),
                    "oc": len(result.offices_created),
                    "ou": len(result.offices_updated),
                    "n": result.unchanged,
                },
            )
            for note in result.notes:
                messages.warning(request, _("已导入，校对提示：%(note)s") % {"note": note})
            return redirect("services:catalogue")
    return render(
        request,
        "services/catalogue_import.html",
        {"account": account, "organisation": org, "form": form, "errors": errors},
    )


@console_view("services.view")
def export_page(request: HttpRequest, account: Account) -> HttpResponse:
    org = account.organisation
    if org is None:
        return _no_organisation(request, account)
    fmt = request.GET.get("format", "xlsx")
    kind = "offices" if request.GET.get("kind") == "offices" else "services"
    if fmt == "csv":
        response = HttpResponse(export_csv(org, kind), content_type="text/csv; charset=utf-8")
        name = f"catalogue-{kind}-{org.pk}.csv"
    elif fmt == "xlsx":
        response = HttpResponse(
            export_xlsx(org),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        name = f"catalogue-{org.pk}.xlsx"
    else:
        raise Http404("unknown format")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
