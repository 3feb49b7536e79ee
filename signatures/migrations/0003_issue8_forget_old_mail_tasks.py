"""E-mail went through one task per message until issue 8; those task records kept the
arguments for ever, the withdrawal notice's included (the signer's encrypted address). E-mail now
goes through the `mail` queue: forget the old records."""

from django.db import migrations

OLD_TASKS = [
    "signatures.tasks.send_signature_email",
    "signatures.tasks.send_withdrawn_email",
]


def forget(apps, schema_editor):
    DBTaskResult = apps.get_model("django_tasks_database", "DBTaskResult")
    DBTaskResult.objects.filter(task_path__in=OLD_TASKS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("signatures", "0002_issue9_cache_table"),
        ("django_tasks_database", "0021_conditional_partial_index_ordering"),
    ]

    operations = [migrations.RunPython(forget, migrations.RunPython.noop)]
