"""The runtime's names for the core's generic contexts, bound to the storage it runs on (the features
name the same types in handlers/context.py; the runtime imports no feature)."""

from __future__ import annotations

from bot.core.context import HandlerContext, JobContext
from bot.core.registry import Registry
from storage.records import MemberRecord, OccurrenceRecord
from storage.repositories import Repositories

InputContext = HandlerContext[Repositories, MemberRecord]
TimeContext = JobContext[Repositories, OccurrenceRecord]
Features = Registry[InputContext, TimeContext]
