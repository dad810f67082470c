"""Persistence on SQLAlchemy 2.0: models, engine and sessions, repositories, migrations, CLI."""
