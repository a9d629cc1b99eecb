"""A daily look at the school holiday data: coordinators hear when it runs out within three months.

Meetings skip school holidays only as far as the holiday file reaches; past its end every meeting
goes ahead, holiday or not, and nobody notices until a reminder comes in the middle of the summer.
So every morning the bot checks how far the data reach, and when that is less than three months
ahead each coordinator gets a direct message — at most one a week (the outbox key holds the week).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from bot.core.reply import Reply
from handlers.context import Feature, JobContext
from handlers.meetings.rhythm import REGIONS, HolidayCalendar
from storage.records import PlannedOccurrence

KIND = "holiday_check"
AT = time(8, 30)
WARN_WITHIN = timedelta(days=91)  # three months
DAYS_PLANNED = 7


def holidays_until(calendar: HolidayCalendar) -> date | None:
    """The last day the school holiday data know about in every region (the earliest of the regions' ends)."""
    ends = [max((last for _, _, last in calendar.school.get(region, ())), default=None) for region in REGIONS]
    return None if any(end is None for end in ends) else min(e for e in ends if e is not None)


class HolidayWatch:
    def __init__(self, calendar: HolidayCalendar) -> None:
        self.calendar = calendar

    def feature(self) -> Feature:
        f = Feature("holiday_watch")
        f.plan(self.plan)
        f.job(KIND, self.check_job)
        return f

    async def plan(self, ctx: JobContext) -> None:
        today = ctx.now.astimezone(ctx.settings.zone).date()
        # no expiry: a check the bot was down for runs late (harmless: the weekly key sends one message at most)
        wanted = [PlannedOccurrence(key=f"{KIND}:{day.isoformat()}", kind=KIND,
                                    due_at=datetime.combine(day, AT, ctx.settings.zone), payload={})
                  for day in (today + timedelta(days=n) for n in range(DAYS_PLANNED))]
        await ctx.repos.occurrences.plan(KIND, [w for w in wanted if w.due_at > ctx.now], ctx.now)

    async def check_job(self, ctx: JobContext) -> None:
        today = ctx.now.astimezone(ctx.settings.zone).date()
        until = holidays_until(self.calendar)
        if until is not None and until - today > WARN_WITHIN:
            return
        shown = until.isoformat() if until else "—"
        days = max(0, (until - today).days) if until else 0
        text = Reply.text(ctx.t("ops.holidays_running_out", until=shown, days=days))
        year, week, _ = today.isocalendar()
        for member_id in await ctx.repos.coordinators.member_ids(ctx.settings.is_coordinator):
            await ctx.post(f"member:{member_id}", text, key=f"{KIND}:{year}-{week:02d}:{member_id}")
