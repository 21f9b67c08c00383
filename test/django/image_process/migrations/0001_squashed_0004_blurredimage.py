"""0001 to 0004 squashed. A new database uses this one migration, which --fake-initial can
recognise as applied when CREATE EXTENSION bytea_blur made the table first; a database that
already ran 0001 to 0004 marks it applied. (--fake-initial alone cannot skip 0002's rename.)"""
from django.db import migrations, models


class Migration(migrations.Migration):

    replaces = [
        ("image_process", "0001_initial"),
        ("image_process", "0002_rename_file_imagefile_image"),
        ("image_process", "0003_imagefile_image_data"),
        ("image_process", "0004_blurredimage"),
    ]

    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="ImageFile",
            fields=[
                ("id", models.AutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("image", models.FileField(upload_to="")),
                ("image_data", models.BinaryField(null=True)),
            ],
        ),
        migrations.CreateModel(
            name="BlurredImage",
            fields=[
                ("img_id", models.AutoField(primary_key=True, serialize=False)),
                ("img_binary", models.BinaryField()),
            ],
            options={
                "db_table": "applyblur",
                "managed": False,
            },
        ),
    ]
