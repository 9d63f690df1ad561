"""Keys never reach the logs: the access log's URL loses the values of credential-like query parameters
and of any parameter that is one of the configured keys (requests carrying them are refused anyway,
see ``api.security``, but the server's access log is written before that)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from urllib.parse import parse_qsl, urlencode

from api.security import KEY_PARAMS, key_matches
from xizmat.settings import Settings

__all__ = ["REDACTED", "RedactKeys", "install_log_redaction", "redact_url"]

REDACTED = "[redacted]"
ACCESS_LOGGERS = ("uvicorn.access", "gunicorn.access")


def redact_url(url: str, digests: Sequence[bytes]) -> str:
    """``url`` with the value of every key-like or key-valued query parameter replaced by ``[redacted]``."""
    path, sep, query = url.partition("?")
    if not sep:
        return url
    pairs = parse_qsl(query, keep_blank_values=True)
    if not any(_secret(name, value, digests) for name, value in pairs):
        return url
    safe = [(name, REDACTED if _secret(name, value, digests) else value) for name, value in pairs]
    return f"{path}?{urlencode(safe, safe='[]')}"


def _secret(name: str, value: str, digests: Sequence[bytes]) -> bool:
    return name.lower() in KEY_PARAMS or bool(digests and len(value) <= 256 and key_matches(value, digests))


class RedactKeys(logging.Filter):
    """Rewrites the string arguments of access-log records (the request line) through ``redact_url``."""

    def __init__(self, digests: Sequence[bytes]) -> None:
        super().__init__()
        self.digests = tuple(digests)

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any(isinstance(a, str) and "?" in a for a in record.args):
            record.args = tuple(redact_url(a, self.digests) if isinstance(a, str) else a for a in record.args)
        return True


def install_log_redaction(settings: Settings) -> None:
    """Attach one ``RedactKeys`` filter (replacing an earlier one) to the access loggers."""
    digests = settings.admin_key_hashes + settings.agent_key_hashes
    for name in ACCESS_LOGGERS:
        logger = logging.getLogger(name)
        for old in [f for f in logger.filters if isinstance(f, RedactKeys)]:
            logger.removeFilter(old)
        logger.addFilter(RedactKeys(digests))
