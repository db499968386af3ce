"""AlphaMale persistence: SQLAlchemy 2.0 async models, sessions, migrations, seed data.

Imports SQLAlchemy only; identical behaviour on PostgreSQL (production) and SQLite (embedded).
"""
