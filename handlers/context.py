"""The concrete contexts and feature type every handler uses: the core's generic ones, bound to this
bot's repositories and records (see bot/core/context.py)."""

from __future__ import annotations

from bot.core import context, registry
from storage.records import MemberRecord, OccurrenceRecord
from storage.repositories import Repositories

HandlerContext = context.HandlerContext[Repositories, MemberRecord]
JobContext = context.JobContext[Repositories, OccurrenceRecord]
AnyContext = context.Context[Repositories]  # what an input's and a job's context share
Feature = registry.Feature[HandlerContext, JobContext]
Features = registry.Registry[HandlerContext, JobContext]  # all features: for the pupil guard, which runs an input again
