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


class Region(models.Model):
    """A rectangle of an upload to hide (a face, a plate, a name), in pixels of the image as
    displayed: served blurred by the redacted view through bytea_blur_regions. No database
    foreign key: on Citus the image table is distributed and this one stays on the coordinator,
    where a constraint to a distributed table cannot be made."""

    image = models.ForeignKey(ImageFile, on_delete=models.CASCADE, related_name="regions", db_constraint=False)
    x = models.FloatField()
    y = models.FloatField()
    width = models.FloatField()
    height = models.FloatField()

    def as_box(self):
        """The region as PostgreSQL's box literal: two opposite corners."""
        return f"(({self.x},{self.y}),({self.x + self.width},{self.y + self.height}))"
