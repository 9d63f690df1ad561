"""The exception tree of Xizmat. Every error carries a stable machine-readable ``code``.

XizmatError                      base of everything we raise on purpose
├── IngestError                  one file could not be ingested (the batch goes on)
│   codes: empty_file, not_text, invalid_pdf, encrypted_pdf, no_extractable_text, too_many_pages,
│          decompression_limit, file_too_large, unsupported_type, invalid_docx, invalid_html,
│          invalid_json, invalid_record, encrypted_docx, invalid_manifest, not_found,
│          parse_timeout, parse_memory_limit, parse_failed
├── StoreError                   the database is missing, corrupt or of another schema
└── ConfigError                  a setting or argument is out of range

Later layers (index, api) subclass ``XizmatError`` with their own codes.
"""

from __future__ import annotations

__all__ = ["ConfigError", "IngestError", "StoreError", "XizmatError"]


class XizmatError(Exception):
    """Base class: ``code`` is stable (tests and clients rely on it), ``message`` says how to fix it."""

    code: str = "error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.message = message


class IngestError(XizmatError):
    """A single file failed to load or parse."""

    code = "parse_failed"


class StoreError(XizmatError):
    """The SQLite store cannot be opened or migrated."""

    code = "store_error"


class ConfigError(XizmatError):
    """A setting or argument is invalid."""

    code = "invalid_config"
