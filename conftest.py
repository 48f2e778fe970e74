# Fixtures shared by the core's tests and the bundled plugins' tests.
pytest_plugins = ["tests.support.fixtures"]
