"""The database cache's table, for sites run without `make setup` (e.g. `manage.py migrate` by a
deployment): rate limits and the proof-of-work replay check live there when REDIS_URL is unset.
Does nothing when the cache is Redis; createcachetable skips an existing table."""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("signatures", "0001_initial")]

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
