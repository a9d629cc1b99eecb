"""Persistence: SQLAlchemy 2 models, the async database, repositories, Alembic migrations."""
