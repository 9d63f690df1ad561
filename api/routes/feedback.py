"""``POST /v1/feedback``: whether a shown result helped, stored against the logged query."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from api.deps import OpsDep
from api.errors import ApiError

__all__ = ["FeedbackIn", "FeedbackOut", "router"]

router = APIRouter(prefix="/v1", tags=["feedback"])


class FeedbackIn(BaseModel):
    """Feedback on one result of a query; ``query_id`` comes from the search or ask response."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"query_id": "4eb52a1c9f75414cbdd7e77ff4434bc6",
                                         "result_id": "law-appeals::15.1", "helpful": True,
                                         "answered_caller": True}]},
    )

    query_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    result_id: str = Field(max_length=300, description="a group id, passage ref or chunk id that was shown")
    helpful: bool | None = None
    answered_caller: bool | None = Field(None, description="set by call-centre agents: the caller got an answer")


class FeedbackOut(BaseModel):
    feedback_id: str


@router.post(
    "/feedback",
    status_code=201,
    response_model=FeedbackOut,
    responses={404: {"description": "query_not_found"}, 422: {"description": "invalid_request"}},
)
def post_feedback(body: FeedbackIn, ops: OpsDep) -> Any:
    """Store feedback on a result; the query must have been logged by this service."""
    feedback_id = ops.add_feedback(body.query_id, body.result_id, helpful=body.helpful,
                                   answered_caller=body.answered_caller)
    if feedback_id is None:
        raise ApiError(f"no query {body.query_id!r} was logged; send the query_id of a search or ask response",
                       code="query_not_found", status=404)
    return {"feedback_id": feedback_id}
