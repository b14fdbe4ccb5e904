"""Generated images shared by the material-check tests (drawn once per session)."""
import pytest

from tests.unit.review import review_material_samples as samples


@pytest.fixture(scope="session")
def card_im():
    return samples.id_card(1600, 1000, seed=3)


@pytest.fixture(scope="session")
def card_jpeg(card_im):
    return samples.jpeg(card_im, 88)


@pytest.fixture(scope="session")
def certificate_im():
    return samples.certificate(1240, 1754, seed=3)


@pytest.fixture(scope="session")
def photo_im():
    return samples.photo(413, 626, seed=3)


@pytest.fixture(scope="session")
def photo_jpeg(photo_im):
    return samples.jpeg(photo_im, 92)
