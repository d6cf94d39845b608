# Shared fixtures for every tier live in the service kit so each package's tests can use them.
pytest_plugins = ["servicekit.testing"]
