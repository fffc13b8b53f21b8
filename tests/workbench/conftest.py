import pytest


@pytest.fixture(autouse=True)
def mid_march_2020(settings):
    """The business date (tasks_app.common.clock) of these tests: 15 March 2020, when a task
    started in January is behind but not yet red, and March is the month being reported."""
    settings.GAOXIN_TODAY = "2020-03-15"
