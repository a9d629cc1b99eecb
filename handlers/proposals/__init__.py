"""Proposals: schools' pitches for jointly funded projects, and votes in the channel."""
