from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("image_process", "0002_rename_file_imagefile_image"),
    ]

    operations = [
        migrations.AddField(
            model_name="imagefile",
            name="image_data",
            field=models.BinaryField(null=True),
        ),
    ]
