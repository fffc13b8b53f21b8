"""What the workbench keeps per user: named filters (保存的筛选)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class SavedFilter(models.Model):
    """A user's named workbench filter: the list's query string, as the filter form sends it."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        on_delete=models.CASCADE,
        related_name="saved_filters",
    )
    name = models.CharField(_("名称"), max_length=40)
    query = models.CharField(_("筛选条件"), max_length=1000)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("保存的筛选")
        verbose_name_plural = _("保存的筛选")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="savedfilter_unique_name"),
            models.CheckConstraint(condition=~Q(name=""), name="savedfilter_name_not_empty"),
        ]

    def __str__(self):
        return self.name
