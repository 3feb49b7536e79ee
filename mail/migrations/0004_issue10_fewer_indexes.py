"""`ref` and `throttle_key` indexed by plain indexes: `db_index=True` also made, on PostgreSQL,
an index for LIKE on each (`…_like`), which no query uses and every write of a message updated.
The old indexes are dropped and the new ones made under names of their own, by the same SQL
on SQLite and PostgreSQL. On PostgreSQL the new indexes are built while the table is locked
for writes: a second or so for a week of mail, during which sign requests wait to queue their
message; migrate at a quiet time."""

from django.db import migrations, models

OLD = ["mail_outgoingmail_ref_ef28cb31", "mail_outgoingmail_throttle_key_c1c53161"]
LIKE = [f"{name}_like" for name in OLD]  # PostgreSQL only


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
                    [f"DROP INDEX {name}" for name in OLD]
                    + [f"DROP INDEX IF EXISTS {name}" for name in LIKE]
                    + [
                        "CREATE INDEX mail_ref ON mail_outgoingmail (ref)",
                        "CREATE INDEX mail_throttle ON mail_outgoingmail (throttle_key)",
                    ],
                    # Back without the LIKE indexes, which nothing used.
                    reverse_sql=[
                        "DROP INDEX mail_ref",
                        "DROP INDEX mail_throttle",
                        f"CREATE INDEX {OLD[0]} ON mail_outgoingmail (ref)",
                        f"CREATE INDEX {OLD[1]} ON mail_outgoingmail (throttle_key)",
                    ],
                ),
            ],
        ),
    ]
