"""API shapes of public progress snapshots."""

from rest_framework import serializers

from tasks_app.common.serializers import reject_html
from tasks_app.models import PublicSnapshot


class PublicSnapshotInSerializer(serializers.Serializer):
    title = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default="", validators=[reject_html]
    )


class PublicSnapshotSerializer(serializers.ModelSerializer):
    public_url = serializers.SerializerMethodField()

    class Meta:
        model = PublicSnapshot
        fields = [
            "id",
            "plan",
            "title",
            "as_of",
            "sha256",
            "ledger_seq",
            "ledger_hash",
            "published_at",
            "public_url",
        ]

    def get_public_url(self, snapshot) -> str:
        return f"/public/plans/{snapshot.plan_id}/snapshots/{snapshot.ledger_seq}/"
