"""The settings pages' forms: each checks the rules the service will check, so that a
mistake is shown beside its field in Chinese before anything is written."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from . import departments as dept_services
from .models import Account, Department, Membership

R = Membership.Role


def _department_choices(account: Account, *, blank: str) -> list[tuple[str, str]]:
    rows = dept_services.ordered(dept_services.departments_of(account))
    return [("", blank)] + [(str(d.pk), "　" * depth + d.name) for d, depth in rows]


def _below(account: Account, dept: Department) -> set[int]:
    """The department and every department below it."""
    children: dict[int | None, list[int]] = {}
    for pk, parent in dept_services.departments_of(account).values_list("pk", "parent_id"):
        children.setdefault(parent, []).append(pk)
    found, todo = {dept.pk}, [dept.pk]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _apply(form: forms.Form, exc: ValidationError) -> None:
    """A service's ValidationError on the form: by field where it names one."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


class DepartmentForm(forms.Form):
    name = forms.CharField(label=_("名称"), max_length=100)
    short_name = forms.CharField(label=_("简称"), max_length=30, required=False)
    parent = forms.TypedChoiceField(
        label=_("上级部门"), required=False, coerce=int, empty_value=None
    )
    working_hours = forms.CharField(
        label=_("办公时间说明"),
        max_length=200,
        required=False,
        help_text=_("例如：工作日 8:30–12:00、14:30–17:30"),
    )

    def __init__(
        self, *args: Any, account: Account, instance: Department | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.account = account
        self.instance = instance
        choices = _department_choices(account, blank=str(_("（无，顶级部门）")))
        parent = cast(forms.ChoiceField, self.fields["parent"])
        parent.choices = choices
        if instance is not None:
            # itself and those below it would make a cycle: not offered (and refused by
            # the service with its reason, should a form send one)
            below = _below(account, instance)
            parent.widget.choices = [c for c in choices if not c[0] or int(c[0]) not in below]
        self.fields["name"].error_messages["required"] = _("请填写部门名称")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        try:
            self.cleaned = dept_services.clean_department(
                self.account, self.to_input(data), instance=self.instance
            )
        except ValidationError as exc:
            _apply(self, exc)
        return data

    @staticmethod
    def to_input(data: dict[str, Any]) -> dept_services.DepartmentInput:
        return dept_services.DepartmentInput(
            name=data.get("name") or "",
            short_name=data.get("short_name") or "",
            parent_id=data.get("parent"),
            working_hours=data.get("working_hours") or "",
        )

    def department_input(self) -> dept_services.DepartmentInput:
        return self.to_input(self.cleaned_data)


class MergeForm(forms.Form):
    target = forms.TypedChoiceField(label=_("并入（保留的部门）"), coerce=int)

    def __init__(self, *args: Any, account: Account, source: Department, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = _department_choices(account, blank=str(_("请选择")))
        cast(forms.ChoiceField, self.fields["target"]).choices = [
            c for c in choices if c[0] != str(source.pk)
        ]
        self.fields["target"].error_messages["required"] = _("请选择并入哪个部门")


class LiaisonForm(forms.Form):
    user = forms.TypedChoiceField(label=_("成员"), coerce=int)

    def __init__(self, *args: Any, account: Account, department: Department, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        members = (
            Membership.objects.filter(account=account, user__is_active=True)
            .exclude(role=R.LIAISON, department=department)
            .select_related("user", "department")
            .order_by("user__username")
        )
        cast(forms.ChoiceField, self.fields["user"]).choices = [("", _("请选择成员"))] + [
            (str(m.user_id), f"{m.user.get_full_name() or m.user.username}（{m.get_role_display()}"
             + (f"·{m.department.name}" if m.department else "") + "）")
            for m in members
        ]  # fmt: skip
        self.fields["user"].error_messages["required"] = _("请选择成员")


class ImportForm(forms.Form):
    file = forms.FileField(label=_("Excel 文件（.xlsx）"))

    def clean_file(self) -> Any:
        f = self.cleaned_data["file"]
        if f.size > 5 * 1024 * 1024:
            raise ValidationError(_("文件不能超过 5 MB"))
        return f


class RoleFields(forms.Form):
    role = forms.ChoiceField(label=_("角色"), choices=R.choices)
    department = forms.TypedChoiceField(
        label=_("部门"),
        required=False,
        coerce=int,
        empty_value=None,
        help_text=_("部门联络员必须指定部门；其他角色不用填"),
    )

    def __init__(self, *args: Any, account: Account, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.account = account
        cast(forms.ChoiceField, self.fields["department"]).choices = _department_choices(
            account, blank="—"
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("role") == R.LIAISON and not data.get("department"):
            self.add_error("department", _("部门联络员必须指定部门"))
        return data

    def chosen_department(self) -> Department | None:
        pk = self.cleaned_data.get("department")
        if self.cleaned_data.get("role") != R.LIAISON or pk is None:
            return None
        return dept_services.departments_of(self.account).get(pk=pk)


class NewMemberRole(RoleFields):
    """A newcomer starts as an operator unless the admin chooses otherwise: an admin's
    rights are never the default."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].initial = R.OPERATOR


class InviteForm(NewMemberRole):
    email = forms.EmailField(label=_("邮箱"), error_messages={"invalid": _("邮箱格式不正确")})
    field_order = ["email", "role", "department"]


class CreateMemberForm(NewMemberRole):
    username = forms.CharField(label=_("用户名"), max_length=150)
    full_name = forms.CharField(label=_("姓名"), max_length=150, required=False)
    email = forms.EmailField(label=_("邮箱"), required=False)
    password = forms.CharField(label=_("初始密码"), widget=forms.PasswordInput)
    password2 = forms.CharField(label=_("再次输入密码"), widget=forms.PasswordInput)
    field_order = ["username", "full_name", "email", "password", "password2", "role", "department"]


class RoleForm(RoleFields):
    pass


class RestoreForm(RoleFields):
    """The role a deactivated person is given back (「恢复」), from a small form in the
    row: its errors are said in one line, so each says what is wrong in words."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].error_messages["invalid_choice"] = _("未知角色：%(value)s")
        self.fields["department"].error_messages["invalid_choice"] = _(
            "所选部门不是本组织在用的部门"
        )

    def department_choices(self) -> list[tuple[str, str]]:
        """The account's departments, for the rows' own selects (one query for all)."""
        return list(cast(forms.ChoiceField, self.fields["department"]).choices)  # type: ignore[arg-type]

    def clean(self) -> dict[str, Any]:
        if "department" in self.errors:  # not also 「必须指定部门」
            return self.cleaned_data
        return super().clean()


class ContactForm(forms.Form):
    phone = forms.CharField(
        label=_("手机号"), max_length=20, required=False,
        help_text=_("11 位手机号：企业微信群机器人按它 @ 提醒"),
    )  # fmt: skip
    wecom_userid = forms.CharField(
        label=_("企业微信账号（userid）"), max_length=64, required=False,
        help_text=_("企业微信通讯录中的账号；填写后提醒优先按它 @ 此人"),
    )  # fmt: skip


class JoinForm(forms.Form):
    """Joining with a new login."""

    username = forms.CharField(label=_("用户名"), max_length=150, help_text=_("登录时使用"))
    full_name = forms.CharField(label=_("姓名"), max_length=150)
    password = forms.CharField(label=_("密码"), widget=forms.PasswordInput)
    password2 = forms.CharField(label=_("再次输入密码"), widget=forms.PasswordInput)


class JoinExistingForm(forms.Form):
    """Joining with the login that already has the invited address."""

    password = forms.CharField(label=_("密码"), widget=forms.PasswordInput)
