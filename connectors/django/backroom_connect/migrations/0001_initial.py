"""The connector's change log (backroom_connect_change)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True
    dependencies: list[tuple[str, str]] = []

    operations = [
        migrations.CreateModel(
            name="RecordedChange",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True,
                                           serialize=False, verbose_name="ID")),
                ("entity", models.CharField(max_length=20)),
                ("record_id", models.BigIntegerField()),
                ("field", models.CharField(max_length=40)),
                ("old_value", models.TextField(blank=True, null=True)),
                ("new_value", models.TextField(blank=True, null=True)),
                ("user", models.CharField(blank=True, max_length=120)),
                ("at", models.DateTimeField()),
                ("version", models.BigIntegerField(blank=True, null=True)),
            ],
            options={
                "db_table": "backroom_connect_change",
                "indexes": [models.Index(fields=["entity", "record_id", "at"],
                                         name="backroom_change_record")],
            },
        ),
    ]
