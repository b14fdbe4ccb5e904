"""Pure rules of the review service: no nameko, no eventlet, no database, no files.

`materials` is the public face of the photo checks (check_material, reencode, thumbnail); `tasks`
the review task's lifecycle; `access`, `decisions` and `figures` the rules of the queue around it.
"""
