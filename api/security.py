"""Who may call what: one policy table, API keys compared in constant time, rate limits, CORS.

Every route is ``public`` (anyone, rate-limited per client), ``agent`` (an agent or admin key when
agent keys are configured, else public) or ``admin`` (an admin key; 403 ``admin_disabled`` when none
is configured). Keys travel only as ``Authorization: Bearer <key>``; they are hashed (sha256) when
the settings load, and a presented key is hashed and compared with every stored digest through
``hmac.compare_digest``. A route missing from ``POLICY`` is refused (fail closed).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from fastapi import Depends, FastAPI, Request
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from api.errors import ApiError
from xizmat.settings import Settings

__all__ = [
    "POLICY", "Access", "Rule", "TokenBuckets", "client_of", "enforce_policy", "install_cors", "install_security",
    "key_matches",
]

logger = logging.getLogger(__name__)


class Access(str, Enum):
    """Who may call a route."""

    PUBLIC = "public"
    AGENT = "agent"
    ADMIN = "admin"


@dataclass(frozen=True)
class Rule:
    """A route's access level; probes and docs are not rate-limited."""

    access: Access
    rate_limited: bool = True


_PUBLIC, _PROBE = Rule(Access.PUBLIC), Rule(Access.PUBLIC, rate_limited=False)
_AGENT, _ADMIN = Rule(Access.AGENT), Rule(Access.ADMIN, rate_limited=False)

# The one policy table: (method, route template) → rule. tests/test_api_ops.py walks app.routes against it.
POLICY: dict[tuple[str, str], Rule] = {
    ("GET", "/healthz"): _PROBE,
    ("GET", "/readyz"): _PROBE,
    ("GET", "/metrics"): _PROBE,
    ("GET", "/openapi.json"): _PROBE,
    ("GET", "/docs"): _PROBE,
    ("GET", "/docs/oauth2-redirect"): _PROBE,
    ("GET", "/redoc"): _PROBE,
    # The web pages and their fixed set of assets (api/web): not rate-limited, a page load fetches several.
    ("GET", "/"): _PROBE,
    ("GET", "/agent"): _PROBE,
    ("GET", "/admin/insights"): _PROBE,  # the page holds no data; it calls the admin route with a key
    ("GET", "/admin/audit"): _PROBE,  # likewise: the completeness audit page
    ("GET", "/static/{name}"): _PROBE,
    ("GET", "/v1/search"): _PUBLIC,
    ("GET", "/v1/suggest"): _PUBLIC,
    ("GET", "/v1/documents/{doc_id}"): _PUBLIC,
    ("GET", "/v1/documents/{doc_id}/articles/{article_id}"): _PUBLIC,
    ("GET", "/v1/chunks/{chunk_id}"): _PUBLIC,
    ("GET", "/v1/services/{service_id}"): _PUBLIC,
    ("POST", "/v1/feedback"): _PUBLIC,
    ("POST", "/v1/ask"): _AGENT,
    ("POST", "/v1/admin/documents"): _ADMIN,
    ("DELETE", "/v1/admin/documents/{doc_id}"): _ADMIN,
    ("POST", "/v1/admin/reindex"): _ADMIN,
    ("GET", "/v1/admin/tasks/{task_id}"): _ADMIN,
    ("GET", "/v1/admin/insights/unanswered"): _ADMIN,
    ("GET", "/v1/admin/audit/services"): _ADMIN,
}
ADMIN_PREFIX = "/v1/admin"
# Query parameters that look like credentials: refused on every route, so keys never reach access logs.
KEY_PARAMS = frozenset({"key", "api_key", "apikey", "api-key", "access_token", "token", "auth", "authorization"})
_BUCKETS_MAX = 10_000


def key_matches(presented: str, digests: Sequence[bytes]) -> bool:
    """Whether ``presented`` is one of the keys; compares against every digest, in constant time each."""
    digest = hashlib.sha256(presented.encode("utf-8", "surrogatepass")).digest()
    found = False
    for stored in digests:
        found |= hmac.compare_digest(digest, stored)
    return found


class TokenBuckets:
    """Per-client token buckets: ``per_minute`` tokens, refilled continuously (burst = one minute)."""

    def __init__(self, per_minute: int) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self._buckets: dict[str, tuple[float, float]] = {}

    def _level(self, client: str, now: float) -> float:
        tokens, last = self._buckets.get(client, (self.capacity, now))
        return min(self.capacity, tokens + (now - last) * self.rate)

    def wait(self, client: str) -> float:
        """Seconds until ``client`` has a token again (0 when it has one now)."""
        if self.capacity <= 0:
            return 0.0
        level = self._level(client, time.monotonic())
        return 0.0 if level >= 1 else (1 - level) / self.rate

    def take(self, client: str) -> float:
        """Spend one token; returns 0, or the seconds to wait when there is none (nothing is spent)."""
        if self.capacity <= 0:
            return 0.0
        now = time.monotonic()
        level = self._level(client, now)
        if level < 1:
            return (1 - level) / self.rate
        if len(self._buckets) >= _BUCKETS_MAX:
            # Forget clients whose buckets have refilled: they are indistinguishable from new ones.
            self._buckets = {c: b for c, b in self._buckets.items() if self._level(c, now) < self.capacity}
        self._buckets[client] = (level - 1, now)
        return 0.0


def client_of(request: Request) -> str:
    """The client's address as the socket reports it (proxy headers are not trusted)."""
    return request.client.host if request.client is not None else "unknown"


def _too_many(seconds: float, what: str) -> ApiError:
    wait = max(1, math.ceil(seconds))
    return ApiError(f"{what}; retry in {wait} s", code="rate_limited", status=429,
                    headers={"Retry-After": str(wait)})


def _presented_key(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, key = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        return ""  # present but malformed: a failed attempt
    return key.strip()


def _refuse_key_in_query(request: Request, settings: Settings) -> None:
    digests = settings.admin_key_hashes + settings.agent_key_hashes
    for name, value in request.query_params.multi_items():
        if name.lower() in KEY_PARAMS or (digests and len(value) <= 256 and key_matches(value, digests)):
            raise ApiError(
                "API keys are never accepted in the URL (it ends up in logs); "
                "send them as `Authorization: Bearer <key>` and rotate a key that was sent this way",
                code="key_in_query", status=400,
            )


async def enforce_policy(request: Request) -> None:
    """The dependency every route runs first: classify the route, check the key, apply rate limits."""
    state = request.app.state
    settings: Settings = state.settings
    route = request.scope.get("route")
    template = getattr(route, "path", request.url.path)
    method = "GET" if request.method == "HEAD" else request.method
    rule = state.policy.get((method, template))
    if rule is None:
        logger.error("route %s %s is not in the policy table of api/security.py; refused", method, template)
        raise ApiError("this route is not available", code="forbidden", status=403)
    _refuse_key_in_query(request, settings)
    client = client_of(request)
    key = _presented_key(request)
    is_admin = bool(key) and key_matches(key, settings.admin_key_hashes)  # type: ignore[arg-type]
    is_agent = is_admin or (bool(key) and key_matches(key, settings.agent_key_hashes))  # type: ignore[arg-type]
    request.state.access = "admin" if is_admin else "agent" if is_agent else "anonymous"
    needs_key = rule.access is Access.ADMIN or (rule.access is Access.AGENT and settings.agent_key_hashes)
    if rule.access is Access.ADMIN and not settings.admin_key_hashes:
        raise ApiError("admin routes are disabled: no admin key is configured (XIZMAT_ADMIN_KEYS)",
                       code="admin_disabled", status=403)
    if needs_key:
        failures: TokenBuckets = state.auth_failures
        wait = failures.wait(client)
        if wait > 0:
            raise _too_many(wait, "too many failed authentication attempts from this client")
        allowed = is_admin if rule.access is Access.ADMIN else is_agent
        if not allowed and not (rule.access is Access.ADMIN and is_agent):
            failures.take(client)
            logger.warning("refused %s %s from %s: missing or wrong key", method, template, client)
            raise ApiError(
                f"this route needs an {rule.access.value} key sent as `Authorization: Bearer <key>`",
                code="unauthorized", status=401, headers={"WWW-Authenticate": "Bearer"},
            )
        if not allowed:
            raise ApiError("this key may not call admin routes; use an admin key", code="forbidden", status=403)
    if rule.rate_limited and not is_agent:
        wait = state.rate_limiter.take(client)
        if wait > 0:
            raise _too_many(wait, f"more than {settings.rate_limit_per_minute} requests a minute from this client")


class _CORSExceptAdmin:
    """CORS for every route but the admin ones, which never answer preflights or carry CORS headers."""

    def __init__(self, app: ASGIApp, *, origins: Sequence[str]) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app, allow_origins=list(origins), allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
            expose_headers=["X-Request-ID", "Retry-After"], max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = "/" + "/".join(p for p in str(scope.get("path", "")).lower().split("/") if p)
        if scope["type"] == "http" and (path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/")):
            await self.app(scope, receive, send)
        else:
            await self.cors(scope, receive, send)


def install_security(app: FastAPI, settings: Settings) -> None:
    """Add the policy dependency (to every route added afterwards) and the limiters."""
    app.state.policy = dict(POLICY)
    app.state.rate_limiter = TokenBuckets(settings.rate_limit_per_minute)
    app.state.auth_failures = TokenBuckets(settings.auth_failures_per_minute)
    app.router.dependencies.append(Depends(enforce_policy))


def install_cors(app: FastAPI, settings: Settings) -> None:
    """The CORS allow-list of ``XIZMAT_CORS_ORIGINS`` (nothing when empty), never on admin routes."""
    if settings.cors_origins:
        app.add_middleware(_CORSExceptAdmin, origins=settings.cors_origins)
