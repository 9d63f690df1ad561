"""Admin routes (an admin key, see api/security.py): upload, delete, reindex, and task status.

Writes answer 202 with task ids once the task (and its file) is durably stored; the worker in
api/tasks.py does the work and publishes the new generation.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException

from api.deps import OpsDep, SettingsDep
from api.errors import ApiError
from api.tasks import clean_name, save_upload
from ingest.store_logs import Task

__all__ = ["TaskIds", "TaskOut", "router"]

router = APIRouter(prefix="/v1/admin", tags=["admin"])

MAX_FILES = 32
_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {"multipart/form-data": {"schema": {
            "type": "object", "required": ["file"],
            "properties": {"file": {"type": "array", "items": {"type": "string", "format": "binary"},
                                    "description": f"one to {MAX_FILES} documents (PDF, HTML, DOCX, text, "
                                                   "Markdown, JSON)"}},
        }}},
    }
}


class TaskIds(BaseModel):
    """The tasks created, in the order of the files."""

    task_ids: list[str]


class TaskError(BaseModel):
    code: str
    message: str


class TaskOut(BaseModel):
    """A task's state; ``error`` is set when it failed, ``result`` when it succeeded."""

    task_id: str
    kind: Literal["ingest", "delete", "reindex"]
    state: Literal["queued", "running", "succeeded", "failed"]
    created_at: str
    updated_at: str
    original_name: str
    error: TaskError | None
    result: dict[str, Any] | None


def _wake(request: Request) -> None:
    worker = getattr(request.app.state, "task_worker", None)
    if worker is not None:
        worker.wake()


def _task_out(task: Task) -> dict[str, Any]:
    error = {"code": task.error_code, "message": task.error_message or ""} if task.error_code else None
    return {"task_id": task.task_id, "kind": task.kind, "state": task.state, "created_at": task.created_at,
            "updated_at": task.updated_at, "original_name": task.original_name, "error": error,
            "result": task.result}


@router.post(
    "/documents",
    status_code=202,
    response_model=TaskIds,
    openapi_extra=_UPLOAD_BODY,
    responses={400: {"description": "invalid_upload"}, 401: {"description": "unauthorized"},
               403: {"description": "forbidden, admin_disabled"}, 413: {"description": "payload_too_large"},
               507: {"description": "insufficient_storage"}},
)
async def upload_documents(request: Request, ops: OpsDep, settings: SettingsDep) -> Any:
    """Queue one ingest task per file (multipart field ``file``, repeated); 202 once they are durable."""
    # The body is parsed here, after the policy dependency: unauthenticated uploads are never buffered.
    try:
        form = await request.form(max_files=MAX_FILES, max_fields=MAX_FILES)
    except (MultiPartException, HTTPException) as exc:
        detail = exc.message if isinstance(exc, MultiPartException) else exc.detail
        if isinstance(exc, HTTPException) and exc.status_code == 413:
            raise
        raise ApiError(f"the upload could not be read ({detail}); send multipart/form-data with at "
                       f"most {MAX_FILES} files in the field `file`", code="invalid_upload", status=400) from None
    try:
        files = [v for k, v in form.multi_items() if k == "file" and isinstance(v, UploadFile)]
        if not files:
            raise ApiError("no file: send the documents as multipart/form-data in the field `file`",
                           code="invalid_upload", status=400)
        task_ids = []
        for upload in files:
            task_id = uuid.uuid4().hex
            original = clean_name(upload.filename)
            try:
                relative = await run_in_threadpool(save_upload, upload.file, settings.data_dir, task_id, original)
            except OSError:
                raise ApiError("the server could not store the upload (disk full or read-only); retry later",
                               code="insufficient_storage", status=507) from None
            await run_in_threadpool(ops.create_task, task_id, "ingest", file_path=relative, original_name=original)
            task_ids.append(task_id)
    finally:
        await form.close()
    _wake(request)
    return {"task_ids": task_ids}


@router.delete(
    "/documents/{doc_id}",
    status_code=202,
    response_model=TaskIds,
    responses={404: {"description": "document_not_found"}, 401: {"description": "unauthorized"},
               403: {"description": "forbidden, admin_disabled"}},
)
def delete_document(doc_id: str, request: Request, ops: OpsDep) -> Any:
    """Queue the removal of a document (its history is kept) and a rebuild of the index."""
    if not ops.has_document(doc_id):
        raise ApiError(f"no document {doc_id!r}; take ids from search results", code="document_not_found",
                       status=404)
    task = ops.create_task(uuid.uuid4().hex, "delete", target=doc_id)
    _wake(request)
    return {"task_ids": [task.task_id]}


@router.post(
    "/reindex",
    status_code=202,
    response_model=TaskIds,
    responses={401: {"description": "unauthorized"}, 403: {"description": "forbidden, admin_disabled"}},
)
def reindex(request: Request, ops: OpsDep) -> Any:
    """Queue a rebuild of the index from the store (new chunks are embedded, the rest cached)."""
    task = ops.create_task(uuid.uuid4().hex, "reindex")
    _wake(request)
    return {"task_ids": [task.task_id]}


@router.get(
    "/tasks/{task_id}",
    response_model=TaskOut,
    responses={404: {"description": "task_not_found"}, 401: {"description": "unauthorized"},
               403: {"description": "forbidden, admin_disabled"}},
)
def get_task(task_id: Annotated[str, Path(max_length=64)], ops: OpsDep) -> Any:
    """The state of a task, with its error code and message or its result."""
    task = ops.task(task_id)
    if task is None:
        raise ApiError(f"no task {task_id!r}; use an id returned by an admin write", code="task_not_found",
                       status=404)
    return _task_out(task)
