"""The article list newest first (an account's, a department liaison's) and the returns
of 退回给我的稿件 read by indexes: at 100,000 articles the list sorted a third of them and
the returns were looked for under every draft (docs/performance.md, Publishing)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("content", "0002_proofread"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="article",
            index=models.Index(fields=["account", "-updated_at", "-id"], name="article_list_idx"),
        ),
        migrations.AddIndex(
            model_name="article",
            index=models.Index(
                fields=["account", "source_department", "-updated_at", "-id"],
                name="article_department_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="step",
            index=models.Index(
                condition=models.Q(("outcome", "returned")),
                fields=["-finished_at", "-id"],
                name="step_returned_idx",
            ),
        ),
    ]
