"""Async actions (bulk update, metadata bulk update): 202 with an id, then ``GET /v1/async-actions/{id}`` shows
ENQUEUED, IN_PROGRESS and DONE on successive reads. The work is applied when the action reaches DONE, and
the project's earlier actions finish first, as upstream queues them per project."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from .model import iso
from .store import Project

STEPS = ("ENQUEUED", "IN_PROGRESS", "DONE")
REPORTS_KEPT = timedelta(days=7)


@dataclass
class AsyncAction:
    id: str
    type: str
    created_at: datetime
    request_id: str
    work: Callable[[], dict[str, Any]]
    step: int = 0
    updated_at: datetime | None = None
    result: dict[str, Any] = field(default_factory=dict)

    @property
    def status(self) -> str:
        return STEPS[self.step]

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id,
            "type": self.type,
            "status": self.status,
            "operation_status": "SUCCESS" if self.status == "DONE" else "UNKNOWN",
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at or self.created_at),
            "request_id": self.request_id,
            "progress": {"ENQUEUED": 0, "IN_PROGRESS": 50, "DONE": 100}[self.status],
            "processing_time": 0,
            "object": "async_action",
        }
        if self.status == "DONE":
            body["result"] = self.result
        return body


class AsyncQueue:
    """One project's actions, in the order they were scheduled."""

    def __init__(self) -> None:
        self.actions: dict[str, AsyncAction] = {}

    def schedule(self, project: Project, kind: str, request_id: str, work: Callable[[], dict[str, Any]]) -> str:
        action_id = "aa_" + "".join(f"{b:02x}" for b in project.new_id("", 9).encode())[:18]
        self.actions[action_id] = AsyncAction(action_id, kind, project.tick(), request_id, work)
        return action_id

    def read(self, project: Project, action_id: str) -> AsyncAction | None:
        """The action as it is now, then one step further for the next read."""
        action = self.actions.get(action_id)
        if action is None:
            return None
        snapshot = AsyncAction(**{**action.__dict__})
        if action.step == 0:
            action.step, action.updated_at = 1, project.tick()
        elif action.step == 1:
            for earlier in self.actions.values():
                if earlier.step < 2:
                    self._finish(project, earlier)
                if earlier is action:
                    break
        return snapshot

    @staticmethod
    def _finish(project: Project, action: AsyncAction) -> None:
        action.result = action.work()
        action.step, action.updated_at = 2, project.tick()
