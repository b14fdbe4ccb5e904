"""Accepted material images on disk: content-addressed, encrypted at rest, with a thumbnail.

Layout under the root (VAR_DIR/materials/):

    <kind>/<sha256[:2]>/<sha256>.jpg.enc        the re-encoded image
    <kind>/<sha256[:2]>/<sha256>.thumb.jpg.enc  its thumbnail

`sha256` is of the re-encoded bytes (the plaintext), so the same picture uploaded twice is stored
once. Files hold `DataCipher.encrypt_bytes(data, context=kind)`: AES-GCM with the key id inside,
bound to the material kind (a certificate file moved into the photo slot does not decrypt).
Writes are atomic (temporary file + rename), files are private to the service's user.

Pure file and crypto work: no Pillow, no database; the handlers decide what is stored.
"""
import hashlib
import os
import uuid
from dataclasses import dataclass


@dataclass(frozen=True)
class StoredFiles:
    sha256: str
    path: str  # relative to the store root
    thumb_path: str


class MaterialStore:
    def __init__(self, root, cipher):
        self.root = os.path.abspath(root)
        self.cipher = cipher

    def put(self, kind, image, thumbnail):
        """Encrypt and write an image and its thumbnail; returns where they are (idempotent)."""
        sha = hashlib.sha256(image).hexdigest()
        base = f"{kind}/{sha[:2]}/{sha}"
        files = StoredFiles(sha, f"{base}.jpg.enc", f"{base}.thumb.jpg.enc")
        self._write(files.path, self.cipher.encrypt_bytes(image, kind))
        self._write(files.thumb_path, self.cipher.encrypt_bytes(thumbnail, kind))
        return files

    def read(self, path, kind):
        """The plaintext bytes; FileNotFoundError when the file is gone (purged)."""
        with open(self._abs(path), "rb") as fh:
            return self.cipher.decrypt_bytes(fh.read(), kind)

    def raw(self, path):
        """The bytes as they lie on disk (tests and operators: proof they are not an image)."""
        with open(self._abs(path), "rb") as fh:
            return fh.read()

    def exists(self, path):
        return os.path.exists(self._abs(path))

    def remove(self, path):
        """Delete one file; True when it existed."""
        try:
            os.remove(self._abs(path))
            return True
        except FileNotFoundError:
            return False

    def _abs(self, path):
        full = os.path.abspath(os.path.join(self.root, path))
        if os.path.commonpath([full, self.root]) != self.root:
            raise ValueError(f"material path outside the store: {path!r}")
        return full

    def _write(self, path, blob):
        # Plain builtin open (not os.open/os.fdopen): this runs in eventlet's thread pool, where
        # the green versions of those would reach for a hub of their own.
        full = self._abs(path)
        directory = os.path.dirname(full)
        os.makedirs(directory, mode=0o700, exist_ok=True)
        tmp = os.path.join(directory, f".tmp-{uuid.uuid4().hex}")
        try:
            with open(tmp, "xb") as fh:
                os.fchmod(fh.fileno(), 0o600)  # private before a byte is written
                fh.write(blob)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, full)  # a fresh nonce each time; same plaintext, so same meaning
        except BaseException:
            try:
                os.remove(tmp)
            except OSError:
                pass
            raise
