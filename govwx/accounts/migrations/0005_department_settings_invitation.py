import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def number_duplicate_names(apps, schema_editor):
    """Department names become unique per organisation: a name used twice (possible
    before, under different parents) gets a number, 「城管局（2）」, so the constraint holds."""
    Department = apps.get_model("accounts", "Department")
    seen: set[tuple[int, str]] = set()
    for d in Department.objects.order_by("organisation_id", "id"):
        key = (d.organisation_id, d.name)
        n = 2
        while key in seen:
            key = (d.organisation_id, f"{d.name}（{n}）")
            n += 1
        if key[1] != d.name:
            Department.objects.filter(pk=d.pk).update(name=key[1][:100])
        seen.add(key)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_editor_reviewer_roles"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="department",
            name="merged_into",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="merged_from",
                to="accounts.department",
                verbose_name="并入部门",
            ),
        ),
        migrations.AddField(
            model_name="department",
            name="retired_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="撤销时间"),
        ),
        migrations.AddField(
            model_name="department",
            name="short_name",
            field=models.CharField(blank=True, max_length=30, verbose_name="简称"),
        ),
        migrations.AddField(
            model_name="department",
            name="working_hours",
            field=models.CharField(blank=True, max_length=200, verbose_name="办公时间说明"),
        ),
        migrations.RemoveConstraint(
            model_name="department",
            name="department_unique_name",
        ),
        migrations.RunPython(number_duplicate_names, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="department",
            constraint=models.UniqueConstraint(
                condition=models.Q(("retired_at__isnull", True)),
                fields=("organisation", "name"),
                name="department_unique_current_name",
            ),
        ),
        migrations.CreateModel(
            name="Invitation",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("email", models.EmailField(max_length=254, verbose_name="邮箱")),
                (
                    "role",
                    models.CharField(
                        choices=[
                            ("admin", "管理员"),
                            ("operator", "运营人员（值班员）"),
                            ("editor", "编辑"),
                            ("reviewer", "审核"),
                            ("liaison", "部门联络员"),
                            ("supervisor", "督办人（带班领导）"),
                        ],
                        max_length=16,
                        verbose_name="角色",
                    ),
                ),
                ("token_hash", models.CharField(max_length=64, unique=True)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("expires_at", models.DateTimeField(verbose_name="有效期至")),
                (
                    "accepted_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="接受时间"),
                ),
                (
                    "revoked_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="撤回时间"),
                ),
                (
                    "accepted_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "account",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="invitations",
                        to="accounts.account",
                    ),
                ),
                (
                    "department",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        to="accounts.department",
                        verbose_name="部门",
                    ),
                ),
                (
                    "invited_by",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "邀请",
                "verbose_name_plural": "邀请",
                "ordering": ["-id"],
            },
        ),
    ]
