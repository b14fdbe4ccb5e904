"""Face detection over OpenCV's bundled Haar cascade, and a fake with the same interface.

OpenCV's wheel ships the cascade files (cv2.data.haarcascades); opencv-python-headless 5.x
drops CascadeClassifier and those files, hence the pin `<5` (docs/dependencies.md). The model is
`haarcascade_frontalface_alt2.xml` (Lienhart et al.): on the labelled set it found the same faces
as `..._default.xml` with fewer stray boxes, in about half the time (docs/material-checks.md).

A CascadeClassifier is not safe to share between threads, and the service runs detections in
eventlet's thread pool: each thread gets its own (loading one costs ~30 ms, once per thread).
OpenCV's own thread pool is turned off: uploads already run side by side, one per pool thread.
"""
import threading

from services.review.domain.faces import Box

CASCADE = "haarcascade_frontalface_alt2.xml"


class HaarFaceDetector:
    def __init__(self, cascade=CASCADE, scale_factor=1.15, min_neighbours=3):
        import cv2  # imported here so the domain and the fake never need it

        cv2.setNumThreads(1)
        self._cv2 = cv2
        self._path = cv2.data.haarcascades + cascade
        self.scale_factor = scale_factor
        self.min_neighbours = min_neighbours
        self._local = threading.local()
        self._classifier()  # fail at start-up, not on the first upload, if the model is missing

    def _classifier(self):
        classifier = getattr(self._local, "classifier", None)
        if classifier is None:
            classifier = self._cv2.CascadeClassifier(self._path)
            if classifier.empty():
                raise RuntimeError(f"cannot load the face model {self._path}")
            self._local.classifier = classifier
        return classifier

    def detect(self, grey, min_size, max_size):
        import numpy as np

        pixels = np.asarray(grey.convert("L") if grey.mode != "L" else grey, dtype=np.uint8)
        boxes, counts = self._classifier().detectMultiScale2(
            pixels, scaleFactor=self.scale_factor, minNeighbors=self.min_neighbours,
            minSize=(min_size, min_size), maxSize=(max_size, max_size))
        return [Box(int(x), int(y), int(w), int(h), int(n)) for (x, y, w, h), n in zip(boxes, counts, strict=True)]


class FakeFaceDetector:
    """Answers what it was told, for unit tests: boxes as fractions (left, top, side, neighbours)
    of the image it is shown, scaled to that image's pixels; records each call."""

    def __init__(self, faces=()):
        self.faces = list(faces)
        self.calls = []

    def detect(self, grey, min_size, max_size):
        self.calls.append((grey.size, min_size, max_size))
        w, h = grey.size
        out = []
        for left, top, side, neighbours in self.faces:
            px = round(side * w)
            if min_size <= px <= max_size:
                out.append(Box(round(left * w), round(top * h), px, px, neighbours))
        return out


_shared = None


def shared_detector():
    """The process's detector (its classifiers are per thread inside), made on first use. No lock:
    this runs in eventlet's thread pool, where a patched lock is a green one; two threads racing
    here make two detectors, and one is dropped."""
    global _shared
    if _shared is None:
        _shared = HaarFaceDetector()
    return _shared
