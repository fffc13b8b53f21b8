from rest_framework import serializers

from tasks_app.audit import exports, labels
from tasks_app.models import AuditEvent, ExportFormat, ExportJob, ExportKind, ExportState

# --- Shapes -----------------------------------------------------------------------------------


class AuditEventSerializer(serializers.ModelSerializer):
    """An event as stored (every hashed field and its hash) with its Chinese labels beside."""

    action_label = serializers.SerializerMethodField()
    actor_role_label = serializers.SerializerMethodField()
    object_type_label = serializers.SerializerMethodField()

    class Meta:
        model = AuditEvent
        fields = [*exports.STORED_KEYS, "action_label", "actor_role_label", "object_type_label"]

    def get_action_label(self, event) -> str:
        return labels.action_label(event.action)

    def get_actor_role_label(self, event) -> str:
        return labels.role_label(event.actor_role, event.actor_username)

    def get_object_type_label(self, event) -> str:
        return labels.object_label(event.object_type)


class ExportJobSerializer(serializers.ModelSerializer):
    requested_by = serializers.CharField(source="requested_by.username")
    download_url = serializers.SerializerMethodField()
    manifest_url = serializers.SerializerMethodField()

    class Meta:
        model = ExportJob
        fields = [
            "id",
            "kind",
            "format",
            "filters",
            "background",
            "state",
            "requested_by",
            "created_at",
            "finished_at",
            "error",
            "manifest",
            "download_url",
            "manifest_url",
        ]

    def _url(self, job, suffix) -> str | None:
        if job.state != ExportState.DONE or (suffix == "download/" and not job.file):
            return None
        return f"/api/v1/audit/exports/{job.pk}/{suffix}"

    def get_download_url(self, job) -> str | None:
        return self._url(job, "download/")

    def get_manifest_url(self, job) -> str | None:
        return self._url(job, "manifest/")


class ExportJobInSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ExportKind.choices, default=ExportKind.LEDGER)
    format = serializers.ChoiceField(choices=ExportFormat.choices, default=ExportFormat.CSV)
    plan = serializers.IntegerField(required=False)
    department = serializers.IntegerField(required=False)
    section = serializers.IntegerField(required=False)
    task = serializers.IntegerField(required=False)
    action = serializers.CharField(required=False, max_length=80)
    date_from = serializers.DateField(required=False)
    date_to = serializers.DateField(required=False)
