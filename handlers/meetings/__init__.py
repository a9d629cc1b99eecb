"""Meetings: the rhythm of the series, their agendas, and the reminders."""
