# Fixtures shared by the core's tests and the bundled plugins' tests.
pytest_plugins = [
    "tests.support.receiver",
    "tests.support.fixtures",
    "tests.support.amocrm_sandbox",
    "tests.support.order_to_lead_shop",
    "tests.support.mobcash_sandbox",
    "tests.support.mail",
    "tests.support.stripe",
]
