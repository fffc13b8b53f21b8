"""Governments: the tenants of one installation (a district's office, a city's, a province's).

Every plan, department and user belongs to one government; tasks carry their plan's government
too, so that every tenant table can be filtered, indexed and (on PostgreSQL) row-level secured by
`government_id` alone. A government's office sees its own register; an office of a city or
province also reads the governments below it (roll-up), never writes for them.

A single-government installation never names one: rows made without a government belong to the
default government, named by the GAOXIN_GOVERNMENT setting (the seed's 珠海高新区).
"""

from django.conf import settings
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class GovernmentLevel(models.TextChoices):
    PROVINCE = "province", _("省级")
    CITY = "city", _("市级")
    DISTRICT = "district", _("区县级")
    ZONE = "zone", _("功能区")


class Government(models.Model):
    Level = GovernmentLevel

    name = models.CharField(_("名称"), max_length=100, unique=True)
    code = models.SlugField(
        _("代码"),
        max_length=40,
        unique=True,
        null=True,
        blank=True,
        help_text=_("英文字母、数字或连字符,供接口和命令行使用"),
    )
    level = models.CharField(
        _("层级"), max_length=20, choices=GovernmentLevel.choices, default=GovernmentLevel.DISTRICT
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级政府"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("政府")
        verbose_name_plural = _("政府")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(level__in=GovernmentLevel.values), name="government_level_valid"
            ),
            models.CheckConstraint(
                condition=~Q(parent=models.F("id")), name="government_not_own_parent"
            ),
            models.CheckConstraint(condition=~Q(name=""), name="government_name_not_blank"),
        ]

    def __str__(self):
        return self.name


def government_field(related_name: str):
    """Required in the database; left blank in forms, save() gives the default government."""
    return models.ForeignKey(
        Government,
        verbose_name=_("政府"),
        on_delete=models.PROTECT,
        related_name=related_name,
        blank=True,
    )


class GovernmentOwnedQuerySet(models.QuerySet):
    def bulk_create(self, objs, *args, **kwargs):
        """Rows made without a government go to the default one, as save() puts them."""
        objs = list(objs)
        if any(obj.government_id is None for obj in objs):
            default = default_government_id()
            for obj in objs:
                if obj.government_id is None:
                    obj.government_id = default
        return super().bulk_create(objs, *args, **kwargs)


class GovernmentOwned(models.Model):
    """save() puts a row made without a government into the default one (GAOXIN_GOVERNMENT)."""

    objects = GovernmentOwnedQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.government_id is None:
            self.government_id = default_government_id()
        super().save(*args, **kwargs)


class UserManager(DjangoUserManager.from_queryset(GovernmentOwnedQuerySet)):
    pass


def default_government_name() -> str:
    return getattr(settings, "GAOXIN_GOVERNMENT", "珠海高新区")


def default_government_id() -> int:
    """The government of rows made without one (single-government installations, the demo)."""
    government, _created = Government.objects.get_or_create(
        name=default_government_name(), defaults={"level": GovernmentLevel.ZONE}
    )
    return government.pk


def government_named(name: str, *, level: str | None = None, parent=None) -> Government:
    """The government called `name`, created if new (load_plan/import_report --government)."""
    name = (name or "").strip()
    if not name:
        return Government.objects.get(pk=default_government_id())
    government, created = Government.objects.get_or_create(
        name=name, defaults={"level": level or GovernmentLevel.DISTRICT, "parent": parent}
    )
    return government
