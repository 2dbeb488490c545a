"""The Django model of the client matrix."""
from django.db import models


class Item(models.Model):
    id = models.BigAutoField(primary_key=True)
    name = models.CharField(max_length=40)
    price = models.DecimalField(max_digits=10, decimal_places=2, null=True)
    at = models.DateTimeField(null=True)
    doc = models.JSONField(null=True)
    data = models.BinaryField(null=True)
    note = models.CharField(max_length=20, null=True)

    class Meta:
        app_label = "mxapp"
        db_table = "items"
