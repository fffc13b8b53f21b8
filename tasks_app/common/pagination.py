from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.pagination import CursorPagination

MAX_PAGE_SIZE = 200

_PAGE_SIZE = serializers.IntegerField(
    min_value=1,
    max_value=MAX_PAGE_SIZE,
    error_messages={"invalid": _("page_size 须为1至200之间的整数。")},
)


class NoCountCursorPagination(CursorPagination):
    """Cursor pages: no COUNT over the table, stable under concurrent inserts."""

    page_size = 50
    max_page_size = MAX_PAGE_SIZE
    page_size_query_param = "page_size"
    ordering = "id"

    def get_page_size(self, request):
        """The caller's page_size, or 400: DRF's own would quietly fall back on a bad one."""
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            return _PAGE_SIZE.run_validation(raw)
        except serializers.ValidationError as exc:
            raise serializers.ValidationError({self.page_size_query_param: exc.detail}) from None
