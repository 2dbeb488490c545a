from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [
        migrations.CreateModel(
            name="Item",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("name", models.CharField(max_length=40)),
                ("price", models.DecimalField(decimal_places=2, max_digits=10, null=True)),
                ("at", models.DateTimeField(null=True)),
                ("doc", models.JSONField(null=True)),
                ("data", models.BinaryField(null=True)),
                ("note", models.CharField(max_length=20, null=True)),
            ],
            options={"db_table": "items"},
        ),
    ]
