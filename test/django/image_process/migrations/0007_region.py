"""Regions of an upload to hide, served by the redacted view through bytea_blur_regions
(bytea_blur 1.5). An ordinary table: on Citus it stays on the coordinator, beside the
distributed image table (no database foreign key to it)."""
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("image_process", "0006_distribute_on_citus"),
    ]

    operations = [
        migrations.CreateModel(
            name="Region",
            fields=[
                ("id", models.AutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("x", models.FloatField()),
                ("y", models.FloatField()),
                ("width", models.FloatField()),
                ("height", models.FloatField()),
                (
                    "image",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="regions",
                        to="image_process.imagefile",
                    ),
                ),
            ],
        ),
    ]
