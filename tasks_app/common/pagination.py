from rest_framework.pagination import CursorPagination


class NoCountCursorPagination(CursorPagination):
    """Cursor pages: no COUNT over the table, stable under concurrent inserts."""

    page_size = 50
    max_page_size = 200
    page_size_query_param = "page_size"
    ordering = "id"
