"""Seed a new database with the State Council arrangements the pinned package knows."""

from django.db import migrations


def seed(apps, schema_editor):  # type: ignore[no-untyped-def]
    from govwx.workcalendar.services import package_days

    special = apps.get_model("workcalendar", "SpecialDay")
    year = apps.get_model("workcalendar", "CalendarYear")
    days, years = package_days(special, year)
    special.objects.bulk_create(days, ignore_conflicts=True, batch_size=500)
    year.objects.bulk_create(years, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [("workcalendar", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
