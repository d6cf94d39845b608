"""PostgreSQL side of the kit: pool, migrations, unit of work, inbox and outbox."""
