"""Schema post-processing: what the serializers enforce but drf-spectacular does not write down."""

NO_NUL = "^[^\\u0000]*$"


def _mark_text(schema: dict) -> None:
    """Free text of a request: DRF refuses a NUL character in any CharField (PostgreSQL cannot
    store it), so the schema says so, and clients and fuzzers generate text without one."""
    if schema.get("type") == "string" and not ({"format", "enum", "pattern"} & set(schema)):
        schema["pattern"] = NO_NUL
    for child in schema.get("properties", {}).values():
        _mark_text(child)
    if isinstance(schema.get("items"), dict):
        _mark_text(schema["items"])


def no_nul_in_request_text(result, generator, request, public):
    for name, component in result.get("components", {}).get("schemas", {}).items():
        if name.endswith("Request"):
            _mark_text(component)
    return result
