"""Migration 0009_defects on both databases: a pitch vote started before it keeps deciding as it did
(the option spelled "voor" accepts the pitch); one without such an option has none."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from storage.db import Database

NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


async def test_votes_from_before_the_migration_accept_with_voor(database_url: str) -> None:
    db = Database(database_url)
    try:
        await db.upgrade("0008")
        async with db.engine.begin() as connection:
            await connection.execute(text(
                "INSERT INTO pitches (id, title, summary, benefit, amount_cents, cofunding_cents, theme, contact, "
                "status, created_at, updated_at) VALUES (1, 'Groeiklas', 's', 'b', 100, 0, 'groeiklas', 'Ingrid', "
                "'in_stemming', :now, :now)"), {"now": NOW})
            for vote_id, options, pitch in ((1, '["tegen", "Voor", "onthouding"]', 1), (2, '["Ja", "Nee"]', 1),
                                            (3, '["voor", "tegen"]', None)):
                await connection.execute(text(
                    "INSERT INTO votes (id, question, options, electorate, werkgebied, secret, show_while_open, "
                    "deadline, quorum, threshold, pitch_id, channel, created_at, result) VALUES (:id, 'Doen?', "
                    ":options, 'schools', '', false, true, :now, 0, 0, :pitch, 'proposals', :now, '')"),
                    {"id": vote_id, "options": options, "pitch": pitch, "now": NOW})
        await db.upgrade()
        async with db.engine.connect() as connection:
            rows = (await connection.execute(text("SELECT id, accepting_option FROM votes"))).all()
        found: dict[int, int | None] = {vote_id: option for vote_id, option in rows}
        assert found == {1: 1, 2: None, 3: None}
    finally:
        await db.dispose()
