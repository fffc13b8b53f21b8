"""The API's JSON parser: DRF's, with a nesting limit, so no body can exhaust the stack."""

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

MAX_DEPTH = 32  # the deepest body the API accepts is 4 levels; this leaves room, not recursion


def _too_deep(value, limit: int) -> bool:
    """Iterative, so a hostile body cannot make the check itself recurse."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
    return False


class BoundedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(_("JSON 嵌套层级过深。")) from None
        except ParseError:
            raise ParseError(_("请求体不是有效的 JSON。")) from None
        if _too_deep(data, getattr(settings, "API_JSON_MAX_DEPTH", MAX_DEPTH)):
            raise ParseError(_("JSON 嵌套层级过深。"))
        return data
