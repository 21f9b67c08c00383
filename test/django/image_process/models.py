from django.db import models


class ImageFile(models.Model):
    """An upload: the file itself, and its bytes in the database."""

    image = models.FileField()
    image_data = models.BinaryField(null=True)


class BlurredImage(models.Model):
    """A blurred copy, read from the applyblur view of the bytea_blur extension."""

    img_id = models.AutoField(primary_key=True)
    img_binary = models.BinaryField()

    class Meta:
        managed = False
        db_table = "applyblur"
