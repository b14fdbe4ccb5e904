"""The real detector (OpenCV's Haar cascade) on the labelled set in tests/data: each rule, the
detection and false-alarm rates the thresholds were set from, duplicates and the adapter."""
import pytest
from PIL import Image

from services.review.adapters.face_detector import FakeFaceDetector, HaarFaceDetector, shared_detector
from services.review.domain import pipeline
from services.review.domain.faces import Box
from services.review.domain.phash import hamming
from services.review.domain.thresholds import DEFAULT as T
from tests.data import material_set as ms
from tests.data.measure import EXPECTED_PHOTO, EXPECTED_SIDE
from tests.support import images


@pytest.fixture(scope="module")
def detector():
    return HaarFaceDetector()


def first_code(verdict):
    bad = [f for f in verdict.checks if not f.ok]
    return (bad or verdict.checks)[0].code


@pytest.fixture(scope="module")
def photo_results(detector):
    return [(name, label, pipeline.check_upload("photo", data, detector)[0]) for name, label, data in ms.photo_set()]


def test_every_labelled_photo_gets_its_finding(photo_results):
    wrong = [(name, label, first_code(v)) for name, label, v in photo_results if first_code(v) != EXPECTED_PHOTO[label]]
    assert wrong == []
    assert {label for _, label, _ in photo_results} == set(EXPECTED_PHOTO)


def test_correct_photos_pass_every_check_and_the_rest_are_refused(photo_results):
    for name, label, verdict in photo_results:
        if label == "one_face":
            assert verdict.ok, (name, verdict.to_dict())
        else:
            assert not verdict.ok and verdict.checks[0].severity == "refuse", name


def test_both_card_sides_in_both_slots(detector):
    for name, label, data in ms.side_set():
        for kind in ("id_card_front", "id_card_back"):
            verdict, _ = pipeline.check_upload(kind, data, detector)
            expected = EXPECTED_SIDE.get((kind, "back" if label == "front_no_face" else label))
            assert first_code(verdict) == expected, (name, kind)
            assert verdict.ok == (expected in ("portrait_found", "no_portrait_on_back")), (name, kind)


def test_recompressed_duplicates_are_near_and_distinct_pictures_far(detector):
    for name, same, a, b in ms.duplicate_pairs():
        kind = "id_card_front" if name.startswith("front") else "photo"
        ia, ib = pipeline.check_upload(kind, a, detector)[1], pipeline.check_upload(kind, b, detector)[1]
        distance = hamming(ia.fingerprints["image"], ib.fingerprints["image"])
        if same:
            assert distance <= T.dup_same_max, name
        elif name.startswith("front ") and " / back " in name:  # front and back of one card: never "the same picture"
            assert distance > T.dup_same_max, name


def test_whole_cards_of_different_holders_look_alike_so_only_portraits_are_compared(detector):
    a = pipeline.check_upload("id_card_front", ms.jpeg(ms.id_front(seed=1)), detector)[1]
    b = pipeline.check_upload("id_card_front", ms.jpeg(ms.id_front(seed=2, mirror=True)), detector)[1]
    assert hamming(a.fingerprints["image"], b.fingerprints["image"]) <= T.cross_account_max  # the template
    assert hamming(a.fingerprints["portrait"], b.fingerprints["portrait"]) > T.cross_account_max


def test_the_test_images_pass_every_check(detector):
    """e2e and browser tests upload these: the photo and both ID sides must be accepted."""
    for kind, im in (("photo", images.photo(seed=4)), ("photo", images.photo(seed=9)),
                     ("id_card_front", images.id_card(seed=1)), ("id_card_back", images.id_card_back(seed=2)),
                     ("certificate", images.certificate(seed=3))):
        verdict, _ = pipeline.check_upload(kind, images.jpeg(im), detector)
        assert verdict.ok, (kind, verdict.to_dict())


def test_real_and_fake_detectors_answer_alike():
    grey = Image.new("L", (200, 300), 200)
    assert HaarFaceDetector().detect(grey, 40, 200) == []
    fake = FakeFaceDetector([(0.2, 0.2, 0.5, 20)])
    assert fake.detect(grey, 40, 200) == [Box(40, 60, 100, 100, 20)]
    assert shared_detector() is shared_detector()


def test_a_missing_model_fails_at_start(tmp_path):
    with pytest.raises(RuntimeError):
        HaarFaceDetector(cascade="no_such_cascade.xml")
