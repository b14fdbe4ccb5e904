"""Check material photos from the command line, exactly as an upload would be checked.

    python -m services.review.materials_cli check --kind photo FILE...

Prints one JSON verdict per file (one line each) and exits 0 when every file passes, 1 otherwise.
The verdict's `checks` are the content checks (a face in the 2-inch photo, the ID card's side) with
their confidence, run by the same face detector the service uses. Duplicates need the other
uploads, so only the service checks them. The file name plays no part: the content decides.
"""
import argparse
import json
import sys

from services.review.adapters.face_detector import HaarFaceDetector
from services.review.domain.materials import KINDS, check_upload


def _check(args, out):
    all_ok = True
    detector = HaarFaceDetector()
    for path in args.files:
        try:
            with open(path, "rb") as fh:
                data = fh.read()
        except OSError as exc:
            print(json.dumps({"file": path, "kind": args.kind, "ok": False,
                              "error": f"无法读取文件：{exc.strerror or exc}"}, ensure_ascii=False), file=out)
            all_ok = False
            continue
        verdict, _ = check_upload(args.kind, data, detector)
        all_ok = all_ok and verdict.ok
        print(json.dumps({"file": path, **verdict.to_dict()}, ensure_ascii=False), file=out)
    return 0 if all_ok else 1


def main(argv=None, out=None):
    parser = argparse.ArgumentParser(prog="python -m services.review.materials_cli",
                                     description="Check material photos (JPEG/PNG) the way the review service does.")
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="print one JSON verdict per file")
    check.add_argument("--kind", required=True, choices=KINDS)
    check.add_argument("files", nargs="+", metavar="FILE")
    args = parser.parse_args(argv)
    return _check(args, out or sys.stdout)


if __name__ == "__main__":
    sys.exit(main())
