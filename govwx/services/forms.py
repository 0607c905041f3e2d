"""Console forms of the service catalogue. They parse what a person typed into the
services' input types; the services validate and write."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils.translation import gettext_lazy as _

from govwx.accounts.models import Department

from .catalogue_writes import OfficeInput, ServiceInput, split_keywords, split_lines
from .models import Category, Office, Service

TEXTAREA = {"rows": 4}


class ServiceErrorsMixin:
    """Put a service's ValidationError on the fields it names."""

    def add_service_errors(self, exc: ValidationError) -> None:
        form: Any = self
        if not hasattr(exc, "error_dict"):
            form.add_error(None, exc.messages)
            return
        for name, messages in exc.message_dict.items():
            field = name if name in form.fields else None
            if name == NON_FIELD_ERRORS:
                field = None
            form.add_error(field, messages)


class ServiceForm(ServiceErrorsMixin, forms.Form):
    code = forms.CharField(
        label=_("事项编码"),
        max_length=32,
        help_text=_("本级唯一；与上级事项编码相同即为覆盖上级事项。"),
    )
    name = forms.CharField(label=_("事项名称"), max_length=100)
    category = forms.ChoiceField(label=_("类别"), choices=Category.choices)
    department = forms.TypedChoiceField(
        label=_("责任部门"), coerce=int, required=False, empty_value=None
    )
    summary = forms.CharField(label=_("简介"), max_length=200, required=False)
    eligibility = forms.CharField(
        label=_("办理对象"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    materials = forms.CharField(
        label=_("申请材料"),
        required=False,
        widget=forms.Textarea(attrs=TEXTAREA),
        help_text=_("每行一项。"),
    )
    steps = forms.CharField(
        label=_("办理流程"),
        required=False,
        widget=forms.Textarea(attrs=TEXTAREA),
        help_text=_("每行一步，按顺序。"),
    )
    fees = forms.CharField(label=_("收费标准"), max_length=200, required=False)
    time_limit = forms.CharField(label=_("法定时限"), max_length=100, required=False)
    online_url = forms.CharField(
        label=_("在线办理网址"),
        max_length=2048,
        required=False,
        help_text=_("http:// 或 https:// 开头；填写小程序时作为备用网页。"),
    )
    miniprogram_appid = forms.CharField(label=_("小程序AppID"), max_length=32, required=False)
    miniprogram_path = forms.CharField(label=_("小程序页面路径"), max_length=256, required=False)
    keywords = forms.CharField(
        label=_("关键词"),
        required=False,
        help_text=_("用“、”或逗号分隔，每个最多 30 个字；同一目录中一个关键词只能对应一个事项。"),
    )
    offices = forms.MultipleChoiceField(
        label=_("办理地点"), required=False, widget=forms.CheckboxSelectMultiple
    )
    position = forms.IntegerField(
        label=_("排序"), initial=0, min_value=-1_000_000, max_value=1_000_000
    )

    def __init__(
        self,
        *args: Any,
        departments: list[Department],
        offices: list[Office],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["department"].choices = [("", "—")] + [  # type: ignore[attr-defined]
            (d.pk, f"{d.name}（{d.organisation.name}）") for d in departments
        ]
        self.fields["offices"].choices = [  # type: ignore[attr-defined]
            (o.code, f"{o.name}（{o.code}）") for o in offices
        ]

    @staticmethod
    def initial_for(s: Service) -> dict[str, Any]:
        d = ServiceInput.of(s)
        return {
            "code": d.code,
            "name": d.name,
            "category": d.category,
            "department": d.department_id,
            "summary": d.summary,
            "eligibility": d.eligibility,
            "materials": "\n".join(d.materials),
            "steps": "\n".join(d.steps),
            "fees": d.fees,
            "time_limit": d.time_limit,
            "online_url": d.online_url,
            "miniprogram_appid": d.miniprogram_appid,
            "miniprogram_path": d.miniprogram_path,
            "keywords": "、".join(d.keywords),
            "offices": d.office_codes,
            "position": d.position,
        }

    def to_input(self) -> ServiceInput:
        c = self.cleaned_data
        return ServiceInput(
            code=c["code"],
            name=c["name"],
            category=c["category"],
            department_id=c["department"],
            summary=c["summary"],
            eligibility=c["eligibility"],
            materials=split_lines(c["materials"]),
            steps=split_lines(c["steps"]),
            fees=c["fees"],
            time_limit=c["time_limit"],
            online_url=c["online_url"],
            miniprogram_appid=c["miniprogram_appid"],
            miniprogram_path=c["miniprogram_path"],
            keywords=split_keywords(c["keywords"]),
            office_codes=list(c["offices"]),
            position=c["position"],
        )


class OfficeForm(ServiceErrorsMixin, forms.Form):
    code = forms.CharField(label=_("网点编码"), max_length=32)
    name = forms.CharField(label=_("网点名称"), max_length=100)
    address = forms.CharField(label=_("地址"), max_length=200)
    opening_hours = forms.CharField(label=_("办公时间"), max_length=200, required=False)
    phone = forms.CharField(label=_("电话"), max_length=64, required=False)
    latitude = forms.FloatField(label=_("纬度"), required=False, help_text=_("WGS-84，如 30.2741"))
    longitude = forms.FloatField(
        label=_("经度"), required=False, help_text=_("WGS-84，如 120.1551")
    )

    @staticmethod
    def initial_for(o: Office) -> dict[str, Any]:
        d = OfficeInput.of(o)
        return {k: getattr(d, k) for k in ("code", "name", "address", "opening_hours", "phone", "latitude", "longitude")}  # fmt: skip

    def to_input(self) -> OfficeInput:
        c = self.cleaned_data
        return OfficeInput(
            code=c["code"],
            name=c["name"],
            address=c["address"],
            opening_hours=c["opening_hours"],
            phone=c["phone"],
            latitude=c["latitude"],
            longitude=c["longitude"],
        )


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("文件"),
        help_text=_("CSV（UTF-8）或 Excel（.xlsx），第一行为表头；按编码新增或更新。"),
    )
