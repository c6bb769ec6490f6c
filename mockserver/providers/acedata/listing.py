"""`retrieve_batch` without `ids`: the caller's task history (vendors-2026-12.md AD-2).

The vendor's web app listed a user's headshots this way (Nexior `headshots.ts` `tasks()`,
`createTaskActions.ts` `buildFilter`/`getTasks`): filters `user_id`, `application_id`,
`created_at_min`, `created_at_max`, `limit`, `offset`; it read `items` and used `count` as the
total for paging, and paged back with `created_at_max` set to its oldest record's `created_at`.
`baseTaskOperator.ts` names the same filter set for every task service.

INFERRED: newest first; both time bounds inclusive, compared with the records' `created_at`
(Unix seconds, 3 decimals); `count` is every match before `offset`/`limit`; `limit` defaults
to `list_limit`; expired tasks are left out, as everywhere else.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ...core.tasks import State
from ...web import Call

if TYPE_CHECKING:
    from .provider import AceData

BOUND_SLACK = 0.001  # the store keeps full precision; records show 3 decimals


@dataclass(frozen=True)
class TaskFilter:
    user_id: str | None
    application_id: str | None
    created_at_min: float | None
    created_at_max: float | None
    limit: int
    offset: int

    @classmethod
    def from_body(cls, body: dict[str, Any], default_limit: int) -> TaskFilter:
        """The filters of a body already checked against `acedata/tasks-request`."""
        return cls(user_id=body.get("user_id"), application_id=body.get("application_id"),
                   created_at_min=body.get("created_at_min"),
                   created_at_max=body.get("created_at_max"),
                   # JSON Schema counts 10.0 as an integer; slicing needs an int
                   limit=int(body.get("limit", default_limit)), offset=int(body.get("offset", 0)))

    def matches(self, record: dict[str, Any]) -> bool:
        created = record["created_at"]
        return ((self.user_id is None or record["user_id"] == self.user_id)
                and (self.application_id is None
                     or record["application_id"] == self.application_id)
                and (self.created_at_min is None or created >= self.created_at_min)
                and (self.created_at_max is None or created <= self.created_at_max))


def task_history(call: Call, provider: AceData, body: dict[str, Any]) -> dict[str, Any]:
    """`{items, count}`: one page of the account's matching records, and how many match."""
    wanted = TaskFilter.from_body(body, provider.options.integer("list_limit"))
    now = call.now
    since = 0.0 if wanted.created_at_min is None else wanted.created_at_min - BOUND_SLACK
    until = now + 1.0 if wanted.created_at_max is None else wanted.created_at_max + BOUND_SLACK
    tasks = call.runtime.store.created_tasks(call.vendor, call.account or "", since, until)
    records = [provider.record(task, now) for task in tasks
               if task.state_at(now) is not State.EXPIRED]
    matched = [record for record in records if wanted.matches(record)]
    return {"items": matched[wanted.offset:wanted.offset + wanted.limit], "count": len(matched)}
