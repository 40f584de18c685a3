"""An object of the student's that stays in the worker (a model, a layer), and its methods.

A module cannot cross the boundary, so the worker keeps it and the grader gets a
:class:`Remote`: its type's name, and methods that run in the worker through the proxy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from grader.sandbox.codec import Handle

if TYPE_CHECKING:
    from grader.checks.calls import Call
    from grader.checks.student import Student


@dataclass(frozen=True)
class Remote:
    """An object of the student's that lives in the worker; its methods are called there.

    >>> model = ctx.call("MLP2d", Call((8,), {}, ("hidden",)))      # doctest: +SKIP
    >>> model.type, model.call("state_dict")["net.0.bias"].shape    # doctest: +SKIP
    ('MLP2d', torch.Size([8]))
    >>> scores = model(Call((x,), {}, ("x",)))                      # doctest: +SKIP

    It may be passed back as an argument of another call (``train_classifier(model, X, y)``).
    """

    handle: Handle
    student: Student = field(repr=False, compare=False)

    @property
    def type(self) -> str:
        """The class name of the object in the worker."""
        return self.handle.type

    def call(self, method: str, call: Call | None = None) -> Any:
        """Call ``method`` of the object (no arguments unless ``call`` gives them)."""
        return self.student.call_method(self, method, call)

    def __call__(self, call: Call) -> Any:
        """Call the object itself, as ``model(x)`` does (a module's forward, with its hooks)."""
        return self.call("__call__", call)

    def __repr__(self) -> str:
        return repr(self.handle)

    def __deepcopy__(self, memo: dict[int, Any]) -> Remote:
        # A parent-side copy of arguments keeps the reference: the object is in the worker.
        return self
