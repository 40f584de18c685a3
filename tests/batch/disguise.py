"""Planted copies for the similarity tests: a solution disguised the ways copies are disguised.

Each function takes Python source and returns source that still runs the same:

    >>> rename("x = y + 1\\n", {"x": "total"})
    'total =y +1 \\n'
"""

from __future__ import annotations

import ast
import io
import tokenize


def rename(code: str, names: dict[str, str]) -> str:
    """Every name in ``names`` renamed (attributes after a dot left alone); the spacing changes
    too, since the source is rebuilt from its tokens."""
    tokens, previous = [], ""
    for token in tokenize.generate_tokens(io.StringIO(code).readline):
        if token.type == tokenize.NAME and token.string in names and previous != ".":
            token = token._replace(string=names[token.string])
        tokens.append((token.type, token.string))
        if token.type not in (tokenize.NL, tokenize.COMMENT):
            previous = token.string
    return tokenize.untokenize(tokens)


def reorder(code: str) -> str:
    """The module's top-level functions in the opposite order."""
    lines = code.splitlines(keepends=True)
    spans = [(node.lineno - 1 - len(node.decorator_list), node.end_lineno or node.lineno)
             for node in ast.parse(code).body if isinstance(node, ast.FunctionDef)]
    blocks = ["".join(lines[start:end]) for start, end in spans]
    return "".join(lines[:spans[0][0]]) + "\n\n".join(reversed(blocks)) + "".join(lines[spans[-1][1]:])


def recomment(code: str, note: str = "# my own note") -> str:
    """Every comment replaced by ``note``."""
    return tokenize.untokenize(
        token._replace(string=note) if token.type == tokenize.COMMENT else token
        for token in tokenize.generate_tokens(io.StringIO(code).readline))


def respace(code: str) -> str:
    """Other spacing: two spaces a level, and the tokens rebuilt with spaces between them."""
    tokens, level = [], 0
    for token in tokenize.generate_tokens(io.StringIO(code).readline):
        level += token.type == tokenize.INDENT
        level -= token.type == tokenize.DEDENT
        tokens.append((token.type, "  " * level if token.type == tokenize.INDENT else token.string))
    return tokenize.untokenize(tokens)
