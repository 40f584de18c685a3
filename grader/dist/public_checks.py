"""An exercise module with its public checks only, for a student bundle.

Assembled, not filtered: the new module starts from the ``@check`` functions whose ids are
public and takes in only the top-level statements they need, name by name (helpers,
constants, imports), so a hidden check, and any helper only a hidden check uses, never
gets in. The module's docstring is replaced (it describes the hidden checks too).

>>> source = '''
... from grader.checks import check
... def oracle(x): return x
... def secret(x): return x
... @check("shown", "a public check")
... def shown(ctx): ctx.agree("f", None, oracle)
... @check("kept_back", "a hidden check")
... def kept_back(ctx): ctx.agree("f", None, secret)
... '''
>>> public = public_source(source, {"shown"}, "ex")
>>> "def oracle" in public, "secret" in public, "kept_back" in public
(True, False, False)
"""

from __future__ import annotations

import ast

from grader.errors import ConfigError


def public_source(source: str, public: set[str], exercise: str) -> str:
    """The source of a module holding the checks of ``public`` and what they use."""
    tree = ast.parse(source)
    body = [s for s in tree.body if not _is_docstring(s)]
    checks = {i: _check_id(s) for i, s in enumerate(body)}
    missing = public - set(checks.values())
    if missing:
        raise ConfigError(f"exercise {exercise}: no check {', '.join(sorted(missing))} in its module")
    needed: set[str] = set()
    keep: set[int] = {i for i, cid in checks.items() if cid in public}
    frontier = list(keep)
    while frontier:
        needed |= _used(body[frontier.pop()])
        for i, statement in enumerate(body):
            if i not in keep and checks[i] is None and _defined(statement) & needed:
                keep.add(i)
                frontier.append(i)
    futures = [s for s in body if _keeps_future(s)]
    kept = [_only_needed(body[i], needed) for i in sorted(keep) if not _keeps_future(body[i])]
    doc = ast.Expr(ast.Constant(f"The public checks of exercise {exercise} (written by `grader dist student`)."))
    module = ast.Module(body=[doc, *futures, *kept], type_ignores=[])
    return ast.unparse(ast.fix_missing_locations(module)) + "\n"


def _is_docstring(statement: ast.stmt) -> bool:
    return isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant) \
        and isinstance(statement.value.value, str)


def _keeps_future(statement: ast.stmt) -> bool:
    return isinstance(statement, ast.ImportFrom) and statement.module == "__future__"


def _check_id(statement: ast.stmt) -> str | None:
    """The id of a ``@check("id", ...)`` function, else None."""
    if not isinstance(statement, ast.FunctionDef):
        return None
    for decorator in statement.decorator_list:
        if isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Name) and decorator.func.id == "check" \
                and decorator.args and isinstance(decorator.args[0], ast.Constant):
            return str(decorator.args[0].value)
    return None


def _defined(statement: ast.stmt) -> set[str]:
    """The names a top-level statement binds."""
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {statement.name}
    if isinstance(statement, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).split(".")[0] for a in statement.names}
    targets: list[ast.expr] = []
    if isinstance(statement, ast.Assign):
        targets = statement.targets
    elif isinstance(statement, (ast.AnnAssign, ast.AugAssign)):
        targets = [statement.target]
    return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}


def _used(statement: ast.stmt) -> set[str]:
    """The names a statement reads (decorators, defaults, annotations and bodies included)."""
    return {n.id for n in ast.walk(statement) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _only_needed(statement: ast.stmt, needed: set[str]) -> ast.stmt:
    """An import statement reduced to the names that are needed; other statements as they are."""
    if isinstance(statement, (ast.Import, ast.ImportFrom)) and not _keeps_future(statement):
        names = [a for a in statement.names if (a.asname or a.name).split(".")[0] in needed]
        if isinstance(statement, ast.Import):
            return ast.Import(names=names)
        return ast.ImportFrom(module=statement.module, names=names, level=statement.level)
    return statement
