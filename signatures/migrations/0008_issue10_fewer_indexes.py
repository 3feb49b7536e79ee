"""The petition's own index on signatures and on the day's statistics goes: the unique
indexes (petition, address) and (petition, day, source) begin with the petition and serve
every lookup by it, and each index costs every sign request a write. Dropped by name (the
same on SQLite and PostgreSQL) rather than by altering the field, which on SQLite would copy
the whole table of signatures."""

from django.db import migrations, models

INDEXES = {
    "signatures_signature_petition_id_ac762687": "signatures_signature",
    "signatures_signingstat_petition_id_84eb0f7e": "signatures_signingstat",
}


class Migration(migrations.Migration):
    dependencies = [("signatures", "0007_issue10_former_prisoners_index")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="signature",
                    name="petition",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=models.deletion.PROTECT,
                        related_name="signatures",
                        to="campaigns.petition",
                    ),
                ),
                migrations.AlterField(
                    model_name="signingstat",
                    name="petition",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=models.deletion.CASCADE,
                        related_name="signing_stats",
                        to="campaigns.petition",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    [f"DROP INDEX {name}" for name in INDEXES],
                    reverse_sql=[
                        f"CREATE INDEX {name} ON {table} (petition_id)"
                        for name, table in INDEXES.items()
                    ],
                ),
            ],
        ),
    ]
