import pytest

from services.registration.domain import campaigns


@pytest.fixture
def campaign():
    return campaigns.beijing_2020_first_registration()
