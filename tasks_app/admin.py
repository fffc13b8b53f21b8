"""The Django admin, in Chinese, for the supervision office's browsing and search.

Admin saves and deletes go through services.admin_save / admin_delete, so they land in the
ledger like every other write.
"""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from tasks_app.audit import services
from tasks_app.common import permissions
from tasks_app.models import (
    AuditEvent,
    CalendarDay,
    Delivery,
    DeliveryAttempt,
    Department,
    DepartmentWebhook,
    Government,
    Indicator,
    KeyArea,
    Milestone,
    Plan,
    RankingRule,
    ReminderStep,
    Section,
    StatusUpdate,
    Task,
    User,
)
from tasks_app.plans.models import CHANGE_CONTROLLED, is_published
from tasks_app.plans.tenants import default_government_id
from tasks_app.reminders import chasing

# A related filter lists only the rows the (government-scoped) list holds.
OWN = admin.RelatedOnlyFieldListFilter

admin.site.site_header = _("高新区督查督办系统")
admin.site.site_title = _("督查督办")
admin.site.index_title = _("管理")


def _office(request) -> bool:
    return request.user.is_active and (
        request.user.is_superuser or permissions.is_office(request.user)
    )


class GovernmentScoped:
    """An office sees and picks its own government's rows only (a superuser: every government's);
    government_path: the lookup from the model to its government (None: not per government)."""

    government_path: str | None = "government"

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser or self.government_path is None:
            return queryset
        return queryset.filter(**{self.government_path: request.user.government_id})

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        return _own_choices(field, request)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        return _own_choices(field, request)


def _own_choices(field, request):
    if field is None or request.user.is_superuser:
        return field
    model = field.queryset.model
    if model is Government:
        field.queryset = field.queryset.filter(pk=request.user.government_id)
    elif any(f.name == "government" for f in model._meta.get_fields()):
        field.queryset = field.queryset.filter(government_id=request.user.government_id)
    return field


def _own_government(request, obj) -> None:
    """A row the office adds belongs to the office's government."""
    if getattr(obj, "government_id", False) is None and not request.user.is_superuser:
        obj.government_id = request.user.government_id


class OfficeAccess(GovernmentScoped):
    """The supervision office (督查室) and administrators browse and edit here without
    per-model permission rows: their role is the permission. Django's own permissions still
    apply to everyone else."""

    def has_module_permission(self, request):
        return _office(request) or super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return _office(request) or super().has_view_permission(request, obj)

    def has_add_permission(self, request, *args):
        return _office(request) or super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None):
        return _office(request) or super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return _office(request) or super().has_delete_permission(request, obj)


class ReadOnlyForOffice(GovernmentScoped):
    """Records nobody edits here: the office may look, no one may change."""

    def has_module_permission(self, request):
        return _office(request) or super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return _office(request) or super().has_view_permission(request, obj)


class AuditedAdmin(OfficeAccess, admin.ModelAdmin):
    def save_model(self, request, obj, form, change):
        _own_government(request, obj)
        services.admin_save(
            actor=request.user, obj=obj, changed_fields=list(form.changed_data), is_new=not change
        )

    def delete_model(self, request, obj):
        services.admin_delete(actor=request.user, obj=obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            services.admin_delete(actor=request.user, obj=obj)


@admin.display(description=_("示例"), boolean=True)
def sample_flag(obj):
    return getattr(obj, "is_sample", None) or getattr(obj, "assignment_is_sample", False)


@admin.register(Department)
class DepartmentAdmin(AuditedAdmin):
    list_display = ["name", "short_name", "parent", sample_flag]
    search_fields = ["name", "short_name"]
    list_filter = ["is_sample"]


@admin.register(User)
class UserAdmin(ReadOnlyForOffice, BaseUserAdmin):
    list_display = ["username", "display_name", "role", "department", "is_active", sample_flag]
    list_filter = ["role", ("department", OWN), "is_active", "is_sample"]
    search_fields = ["username", "display_name"]
    fieldsets = BaseUserAdmin.fieldsets + (
        (_("督查督办"), {"fields": ["role", "department", "display_name", "is_sample"]}),
    )

    def save_model(self, request, obj, form, change):
        _own_government(request, obj)
        services.admin_save(
            actor=request.user, obj=obj, changed_fields=list(form.changed_data), is_new=not change
        )


class SectionInline(admin.TabularInline):
    model = Section
    extra = 0


@admin.register(Plan)
class PlanAdmin(AuditedAdmin):
    list_display = [
        "title",
        "year",
        "kind",
        "status",
        "published_at",
        "department_signoff",
        "ranking_enabled",
        "evidence_required",
    ]
    list_filter = [
        "year",
        "kind",
        "status",
        "department_signoff",
        "ranking_enabled",
        "evidence_required",
    ]
    search_fields = ["title"]
    inlines = [SectionInline]


@admin.register(RankingRule)
class RankingRuleAdmin(AuditedAdmin):
    """The office sets each plan's 红黑榜 weights and thresholds; the rule text leaders see is
    written from them. A plan without a row is scored with the defaults. The office's own
    setting: its staff accounts edit it without being granted model permissions one by one."""

    government_path = "plan__government"

    list_display = [
        "plan",
        "reporting_weight",
        "on_time_weight",
        "first_pass_weight",
        "completion_weight",
        "lights_weight",
        "red_list_min_score",
        "black_list_below_score",
    ]
    list_filter = ["plan__year"]

    def _office(self, request) -> bool:
        return request.user.is_active and permissions.is_office(request.user)

    def has_module_permission(self, request):
        return self._office(request)

    def has_view_permission(self, request, obj=None):
        return self._office(request)

    def has_add_permission(self, request):
        return self._office(request)

    def has_change_permission(self, request, obj=None):
        return self._office(request)

    def has_delete_permission(self, request, obj=None):
        return self._office(request)


@admin.register(Section)
class SectionAdmin(AuditedAdmin):
    government_path = "plan__government"
    list_display = ["__str__", "plan", "number"]
    list_filter = [("plan", OWN)]


@admin.register(KeyArea)
class KeyAreaAdmin(AuditedAdmin):
    government_path = "section__plan__government"
    list_display = ["title", "section", "number"]
    list_filter = [("section__plan", OWN), ("section", OWN)]
    search_fields = ["title"]


class IndicatorInline(admin.TabularInline):
    model = Indicator
    extra = 0
    fields = ["name", "comparator", "target_value", "target_value_max", "unit", "latest_actual"]

    def get_readonly_fields(self, request, obj=None):  # obj: the task
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and is_published(obj):
            fields += ["target_value", "target_value_max"]
        return fields


class MilestoneInline(admin.TabularInline):
    model = Milestone
    extra = 0


@admin.register(Task)
class TaskAdmin(AuditedAdmin):
    list_display = [
        "code",
        "title",
        "kind",
        "section",
        "lead_department",
        "deadline",
        "status",
        "progress",
        sample_flag,
    ]
    list_filter = [
        ("plan", OWN),
        ("section", OWN),
        ("key_area", OWN),
        "kind",
        ("lead_department", OWN),
        "status",
        "assignment_is_sample",
    ]
    search_fields = ["code", "title", "source_text"]
    autocomplete_fields = ["lead_department", "co_departments"]
    list_select_related = ["section", "lead_department", "plan"]
    readonly_fields = ["version", "received_at", "created_at", "updated_at"]
    inlines = [IndicatorInline, MilestoneInline]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and is_published(obj):
            fields += CHANGE_CONTROLLED["task"]
        return fields

    def save_related(self, request, form, formsets, change):
        # Inline rows and many-to-many changes go through the ledger too.
        services.admin_save_related(
            actor=request.user,
            obj=form.instance,
            save=lambda: super(TaskAdmin, self).save_related(request, form, formsets, change),
        )


@admin.register(Indicator)
class IndicatorAdmin(AuditedAdmin):
    government_path = "plan__government"
    list_display = ["name", "comparator", "target_value", "unit", "task", "plan"]
    list_filter = [("plan", OWN), "comparator", "unit"]
    search_fields = ["name", "source_text", "task__code"]
    list_select_related = ["task", "plan"]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and is_published(obj):
            fields += CHANGE_CONTROLLED["indicator"]
        return fields


@admin.register(Milestone)
class MilestoneAdmin(AuditedAdmin):
    government_path = "task__government"
    list_display = ["title", "task", "due_date", "done_date", sample_flag]
    list_filter = ["is_sample", ("task__lead_department", OWN)]
    search_fields = ["title", "task__code", "task__title"]
    list_select_related = ["task"]


@admin.register(StatusUpdate)
class StatusUpdateAdmin(ReadOnlyForOffice, admin.ModelAdmin):
    government_path = "task__government"
    list_display = ["task", "period", "status", "progress", "author", "created_at"]
    list_filter = ["status", ("task__lead_department", OWN)]
    search_fields = ["task__code", "narrative"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyForOffice, admin.ModelAdmin):
    government_path = "government"  # the government whose chain holds the event
    list_display = ["created_at", "actor_username", "action", "object_repr"]
    list_filter = ["action", "object_type"]
    search_fields = ["object_repr", "actor_username", "action"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- Reminders ---


@admin.register(ReminderStep)
class ReminderStepAdmin(AuditedAdmin):
    list_display = [
        "name",
        "plan",
        "level",
        "offset",
        "repeat",
        "to_contact",
        "to_head",
        "to_leader",
        "to_office",
        "by_email",
        "by_in_app",
        "by_webhook",
        "is_active",
    ]
    list_filter = [("plan", OWN), "level", "is_active"]
    list_editable = ["is_active"]


@admin.register(DepartmentWebhook)
class DepartmentWebhookAdmin(OfficeAccess, admin.ModelAdmin):
    """Audited like every admin write, but the robot's key and secret never reach the ledger."""

    list_display = ["department", "kind", "is_active"]
    list_filter = ["kind", "is_active"]

    def save_model(self, request, obj, form, change):
        _own_government(request, obj)
        chasing.webhook_save(
            actor=request.user, hook=obj, changed=list(form.changed_data), is_new=not change
        )

    def delete_model(self, request, obj):
        chasing.webhook_delete(actor=request.user, hook=obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            chasing.webhook_delete(actor=request.user, hook=obj)


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    readonly_fields = [
        "number",
        "channel",
        "started_at",
        "finished_at",
        "ok",
        "provider_id",
        "error",
    ]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyForOffice, admin.ModelAdmin):
    government_path = None  # deliveries carry no government yet
    list_display = ["key", "channel", "status", "attempts", "next_attempt_at", "sent_at"]
    list_filter = ["channel", "status"]
    search_fields = ["key", "subject"]
    inlines = [DeliveryAttemptInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(CalendarDay)
class CalendarDayAdmin(AuditedAdmin):
    """工作日历: holidays on weekdays and working weekends (调休上班); the office enters the years
    the chinese-calendar package does not know yet."""

    government_path = None  # holidays are national law

    list_display = ["date", "kind", "name"]
    list_filter = ["kind"]
    search_fields = ["name"]
    date_hierarchy = "date"

    # The State Council's arrangement is one for the whole installation: the installation's own
    # (default) government's office and administrators enter it; other governments' offices
    # read it (a district's edit would move every government's deadlines).
    def _edits_national_calendar(self, request) -> bool:
        user = request.user
        return user.is_superuser or (
            _office(request) and user.government_id == default_government_id()
        )

    def has_add_permission(self, request, *args):
        return self._edits_national_calendar(request)

    def has_change_permission(self, request, obj=None):
        return self._edits_national_calendar(request)

    def has_delete_permission(self, request, obj=None):
        return self._edits_national_calendar(request)
