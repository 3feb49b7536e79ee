"""`ref` and `throttle_key` indexed by plain indexes: `db_index=True` also made, on PostgreSQL,
an index for LIKE on each (`…_like`), which no query uses and every write of a message updated.
The database keeps its existing work: the old indexes are dropped and the new ones made under
names of their own, by the same SQL on SQLite and PostgreSQL."""

from django.db import migrations, models

OLD = [
    "mail_outgoingmail_ref_ef28cb31",
    "mail_outgoingmail_ref_ef28cb31_like",
    "mail_outgoingmail_throttle_key_c1c53161",
    "mail_outgoingmail_throttle_key_c1c53161_like",
]


class Migration(migrations.Migration):
    dependencies = [("mail", "0003_sweep_suppressed_label")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="outgoingmail",
                    name="ref",
                    field=models.CharField(
                        blank=True, help_text="What the message is about", max_length=100
                    ),
                ),
                migrations.AlterField(
                    model_name="outgoingmail",
                    name="throttle_key",
                    field=models.CharField(blank=True, max_length=32),
                ),
                migrations.AddIndex(
                    model_name="outgoingmail",
                    index=models.Index(fields=["ref"], name="mail_ref"),
                ),
                migrations.AddIndex(
                    model_name="outgoingmail",
                    index=models.Index(fields=["throttle_key"], name="mail_throttle"),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    [f"DROP INDEX IF EXISTS {name}" for name in OLD]
                    + [
                        "CREATE INDEX mail_ref ON mail_outgoingmail (ref)",
                        "CREATE INDEX mail_throttle ON mail_outgoingmail (throttle_key)",
                    ],
                    reverse_sql=[
                        "DROP INDEX IF EXISTS mail_ref",
                        "DROP INDEX IF EXISTS mail_throttle",
                        f"CREATE INDEX {OLD[0]} ON mail_outgoingmail (ref)",
                        f"CREATE INDEX {OLD[2]} ON mail_outgoingmail (throttle_key)",
                    ],
                ),
            ],
        ),
    ]
