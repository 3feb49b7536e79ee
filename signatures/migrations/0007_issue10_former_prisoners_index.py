import django.db.models.expressions
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("signatures", "0006_issue11_staff_tools")]

    operations = [
        migrations.AddIndex(
            model_name="signature",
            index=models.Index(
                models.F("petition"),
                django.db.models.expressions.OrderBy(
                    models.F("confirmed_at"), descending=True
                ),
                django.db.models.expressions.OrderBy(models.F("id"), descending=True),
                condition=models.Q(
                    ("listed", True),
                    ("group", "former_political_prisoner"),
                    ("group_verified_at__isnull", False),
                ),
                name="signature_former_prisoners",
            ),
        ),
    ]
