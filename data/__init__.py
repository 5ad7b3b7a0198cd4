"""Storage: SQLAlchemy models, sessions, repositories, statistics queries and migrations."""
