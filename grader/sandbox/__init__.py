"""The trust boundary: a worker child runs student code; the parent only exchanges data.

``codec`` is the wire format (JSON header plus raw tensor bytes, no pickle), ``zygote`` the
pre-warmed process that forks workers, ``worker`` the request loop in the child, ``client``
the parent's side. This package imports nothing from the rest of ``grader`` so that the
child never loads checks or reference solutions.
"""
