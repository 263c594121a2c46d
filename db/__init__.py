"""Persistence: SQLAlchemy 2 models, the async session factory, repositories, migrations."""
