pytest_plugins = ["tests.auxil.db", "tests.auxil.app", "tests.auxil.telegram"]
