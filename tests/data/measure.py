"""Runs the labelled set through the content checks with the real detector and prints the rates
docs/material-checks.md quotes (detection, false alarms, duplicates). Not a test: figures."""
import statistics
import time
from collections import Counter, defaultdict

from services.review.adapters.face_detector import HaarFaceDetector
from services.review.domain import pipeline
from services.review.domain.phash import hamming
from services.review.domain.thresholds import DEFAULT
from tests.data import material_set as ms

# What each label of the photo set should get: the code of the first refusing finding, or None.
EXPECTED_PHOTO = {"one_face": "one_face", "no_face": "no_face", "two_faces": "several_faces",
                  "cut_top": "face_cut_off", "cut_side": "no_face", "too_small": "face_too_small",
                  "off_centre": "face_off_centre", "too_low": "face_too_low"}
EXPECTED_SIDE = {("id_card_front", "front"): "portrait_found", ("id_card_back", "back"): "no_portrait_on_back",
                 ("id_card_front", "back"): "no_portrait_on_front", ("id_card_back", "front"): "portrait_on_back"}


def _first(verdict):
    bad = [f for f in verdict.checks if not f.ok]
    return (bad or verdict.checks)[0] if verdict.checks else None


def photo_rates(detector):
    table, times, faces_found, faces_total, false_alarms, negatives = defaultdict(Counter), [], 0, 0, 0, 0
    for _name, label, data in ms.photo_set():
        start = time.perf_counter()
        verdict, _ = pipeline.check_upload("photo", data, detector)
        times.append((time.perf_counter() - start) * 1000)
        got = _first(verdict)
        table[label][got.code if got else None] += 1
        if label not in ("no_face", "cut_side"):
            faces_total += 1
            faces_found += got is not None and got.code != "no_face"
        else:
            negatives += 1
            false_alarms += got is not None and got.code != "no_face"
    return table, faces_found, faces_total, false_alarms, negatives, times


def side_rates(detector):
    table = defaultdict(Counter)
    for _name, label, data in ms.side_set():
        for kind in ("id_card_front", "id_card_back"):
            verdict, _ = pipeline.check_upload(kind, data, detector)
            got = _first(verdict)
            table[(kind, label)][(got.code, got.severity) if got else None] += 1
    return table


def duplicate_rates(detector):
    rows = []
    for name, same, a, b in ms.duplicate_pairs():
        ia = pipeline.check_upload("id_card_front" if "front" in name else "photo", a, detector)[1]
        ib = pipeline.check_upload("id_card_front" if "front" in name else "photo", b, detector)[1]
        image = hamming(ia.fingerprints["image"], ib.fingerprints["image"])
        portrait = (hamming(ia.fingerprints["portrait"], ib.fingerprints["portrait"])
                    if "portrait" in ia.fingerprints and "portrait" in ib.fingerprints else None)
        rows.append((name, same, image, portrait))
    return rows


def main():
    detector = HaarFaceDetector()
    table, found, total, alarms, negatives, times = photo_rates(detector)
    print("2-inch photo: label -> first finding")
    for label, counts in table.items():
        right = counts[EXPECTED_PHOTO[label]]
        print(f"  {label:10s} {right}/{sum(counts.values())} right  {dict(counts)}")
    print(f"  faces found {found}/{total}; false alarms {alarms}/{negatives}; "
          f"check_upload median {statistics.median(times):.1f} ms")
    print("ID sides: (kind, label) -> finding")
    for key, counts in side_rates(detector).items():
        print(f"  {key} {dict(counts)}")
    print(f"duplicates (image, portrait Hamming bits; cross-account bound {DEFAULT.cross_account_max}):")
    for name, same, image, portrait in duplicate_rates(detector):
        print(f"  {'same' if same else 'diff'} image={image:2d} portrait={portrait}  {name}")


if __name__ == "__main__":
    main()
