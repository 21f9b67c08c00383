"""Installs bytea_blur: it adopts the image_process_imagefile table made above and creates the
applyblur view behind BlurredImage. The extension is trusted, so the database owner that the
application connects as may run this without being a superuser."""
from django.contrib.postgres.operations import CreateExtension
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("image_process", "0004_blurredimage"),
    ]

    operations = [
        CreateExtension("bytea_blur"),
    ]
