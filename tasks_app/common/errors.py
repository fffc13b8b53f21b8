"""Domain errors: a stable code for programs, a Chinese message for people, an HTTP status."""

from django.utils.translation import gettext_lazy as _


class ServiceError(Exception):
    status = 400

    def __init__(self, code: str, message, field: str | None = None):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.field = field


class NotPermitted(ServiceError):
    status = 403

    def __init__(self, message=None, code: str = "forbidden"):
        super().__init__(code, message if message is not None else _("您无权执行此操作。"))


class Conflict(ServiceError):
    status = 409


class NotFound(ServiceError):
    """Something that exists only when a rule says so (e.g. a plan's 红黑榜 turned off)."""

    status = 404


class PreconditionFailed(ServiceError):
    status = 412

    def __init__(self):
        super().__init__("stale_version", _("数据已被他人修改,请刷新后重试。"))


class PreconditionRequired(ServiceError):
    status = 428

    def __init__(self):
        super().__init__(
            "if_match_required", _("修改前须提供 If-Match 请求头(取自 GET 返回的 ETag)。")
        )


class LockedOut(ServiceError):
    status = 429

    def __init__(self):
        super().__init__("locked_out", _("登录失败次数过多,账号已暂时锁定,请15分钟后再试。"))
