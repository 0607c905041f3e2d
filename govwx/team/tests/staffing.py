"""A staffed account for the people and project tests: members with roles and skills.

    acctadmin  admin       (conftest)            —
    operator   operator    (conftest)            —
    design     editor                            design, writing
    editor     editor                            writing, proofreading
    leader     supervisor                        policy
    photo      reviewer                          photography, video
    water      liaison of 市水利局                policy

So data and community are missing, and proofreading, photography, video and design
rest on one person each.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model

from govwx.accounts.models import Account, Department, Membership, Organisation
from govwx.accounts.services import add_member
from govwx.team import people

R = Membership.Role
PEOPLE: list[tuple[str, str, list[str]]] = [
    ("design", R.EDITOR, ["design", "writing"]),
    ("editor", R.EDITOR, ["writing", "proofreading"]),
    ("leader", R.SUPERVISOR, ["policy"]),
    ("photo", R.REVIEWER, ["photography", "video"]),
    ("water", R.LIAISON, ["policy"]),
]


def staff_account(account: Account, admin: Any) -> dict[str, Any]:
    """Give the account an organisation, a department and the people above."""
    org = Organisation.objects.create(name="示例市人民政府", level="city")
    Account.objects.filter(pk=account.pk).update(organisation=org)
    account.refresh_from_db()
    dept = Department.objects.create(organisation=org, name="市水利局")
    users: dict[str, Any] = {"admin": admin, "dept": dept}
    for name, role, skills in PEOPLE:
        user = get_user_model().objects.create_user(name, password=f"pw-{name}-1")
        add_member(account, user, role, department=dept if role == R.LIAISON else None)
        people.set_profile(account, user, skills=skills, actor=admin)
        users[name] = user
    return users
