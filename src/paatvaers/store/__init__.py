"""PostgreSQL storage: tables, migrations, repositories, and the embedded server."""
