"""Bytes of an uploaded report -> text: UTF-8 (BOM or not) or GB18030, else a clear error."""

import re

from django.utils.translation import gettext_lazy as _

from tasks_app.common.errors import ServiceError

# A work report is 50-100 KB; 5 MB is fifty reports. Anything larger is not a report, and parsing it
# would tie up a web worker: it is refused before decoding.
MAX_TEXT_BYTES = 5 * 1024 * 1024

# C0 controls other than tab, newline, carriage return and form feed do not occur in text files.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def decode_report(data: bytes) -> tuple[str, str]:
    """(text, encoding name) of data, or ServiceError with a Chinese message.

    UTF-8 is tried strictly first: GB18030 decodes almost any byte sequence, so trying it first
    would turn UTF-8 text into mojibake. A file mixing both encodings fails UTF-8 and, decoded as
    GB18030, shows up as garbage; it is refused rather than silently imported.
    """
    if not data or not data.strip():
        raise ServiceError("empty_file", _("文件为空,请选择工作报告的文本文件。"))
    if len(data) > MAX_TEXT_BYTES:
        raise ServiceError(
            "file_too_large", _("文件超过5 MB,不是一份工作报告的文本,请检查后重新上传。")
        )
    if b"\x00" in data:
        raise ServiceError("binary_file", _("文件不是纯文本(含二进制内容),请另存为 TXT 后上传。"))
    text, encoding = _decode(data)
    if _CONTROL.search(text):
        raise ServiceError("binary_file", _("文件不是纯文本(含控制字符),请另存为 TXT 后上传。"))
    return text.replace("\r\n", "\n").replace("\r", "\n"), encoding


def _decode(data: bytes) -> tuple[str, str]:
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as error:
            raise _mixed() from error
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError as error:
        raise _unknown() from error
    if _looks_mixed(text):
        raise _mixed()
    return text, "gb18030"


def _looks_mixed(text: str) -> bool:
    """UTF-8 Chinese read as GB18030 gives characters outside GB2312 (rare or private use).

    A genuine GBK report uses almost only the 6,763 common characters of GB2312.
    """
    han = [ch for ch in text if ord(ch) > 0x2000]
    odd = sum(1 for ch in han if not _in_gb2312(ch))
    return odd > 3 and odd * 10 > len(han)


def _in_gb2312(ch: str) -> bool:
    try:
        ch.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


def _mixed() -> ServiceError:
    return ServiceError(
        "mixed_encoding",
        _("文件编码混杂(部分 UTF-8、部分 GBK),无法可靠识别,请统一另存为 UTF-8 后上传。"),
    )


def _unknown() -> ServiceError:
    return ServiceError(
        "unknown_encoding",
        _(
            "无法识别文件编码(不是 UTF-8 或 GBK,或两种编码混杂),"
            "请统一另存为 UTF-8 编码的 TXT 后上传。"
        ),
    )
