"""Reading settings from the environment, loudly.

A typo in production configuration must stop the process at start-up with a message that names
the variable, never fall back to a default silently.
"""

import os


class ConfigurationError(Exception):
    pass


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return default if value is None else value.strip()


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ConfigurationError(
        f"{name}={value!r} is not a boolean (use 1/0, true/false, yes/no, on/off)"
    )


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ConfigurationError(f"{name}={value!r} is not an integer") from None


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_date(name: str, default=None):
    """YYYY-MM-DD, or the default when unset or empty."""
    import datetime as dt

    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise ConfigurationError(f"{name}={value!r} is not a date (use YYYY-MM-DD)") from None
