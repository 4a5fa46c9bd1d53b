#!/usr/bin/env python3
"""Keeps the shared crate's module graph acyclic and its functions a screenful.

Reads the Rust sources under a crate's src/ (default: shared/src) without building anything and fails, naming
what to fix, when
- the modules import each other in a cycle: every `crate::`, `super::`, `self::` path is followed (in `use`
  declarations, `use` groups, and in the code itself), as are paths through a child module or a name brought in
  by `use`, and `pub use` re-exports are followed to the module that defines the item (a `pub use` is an edge
  only when the module's own code uses the name: a parent that re-exports its children does not depend on them);
- a function outside test code is longer than --max-fn-lines (80) lines, from its `fn` line to its closing brace.

Test code (`#[cfg(test)]` items and modules) is left out of both. Pure Python 3, no dependencies.

Usage: scripts/check-modules.py [--root shared/src] [--max-fn-lines 80] [--list]
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from dataclasses import dataclass, field

MAX_FN_LINES = 80


# --- Lexing: blank out comments and literals, so only code is read ------------------------------------------


def strip_comments_and_literals(src: str) -> str:
    """The source with comments and the contents of string and char literals replaced by spaces (newlines kept)."""
    out: list[str] = []
    i, n = 0, len(src)

    def blank(text: str) -> str:
        return "".join("\n" if c == "\n" else " " for c in text)

    while i < n:
        c = src[i]
        if src.startswith("//", i):
            j = src.find("\n", i)
            j = n if j < 0 else j
            out.append(blank(src[i:j]))
            i = j
        elif src.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if src.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif src.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append(blank(src[i:j]))
            i = j
        elif (m := re.compile(r'(?:b|c)?r(#*)"').match(src, i)) and (i == 0 or not _ident(src[i - 1])):
            closing = '"' + m.group(1)
            j = src.find(closing, m.end())
            j = n if j < 0 else j + len(closing)
            out.append('"' + blank(src[i + 1 : j - 1]) + '"' if j - i >= 2 else blank(src[i:j]))
            i = j
        elif c == '"' or (c in "bc" and src.startswith('"', i + 1) and (i == 0 or not _ident(src[i - 1]))):
            start = i if c == '"' else i + 1
            j = start + 1
            while j < n and src[j] != '"':
                j += 2 if src[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(src[i:start] + '"' + blank(src[start + 1 : j - 1]) + '"')
            i = j
        elif c == "'":
            # A char literal ('x', '\n', '\u{1F600}') or a lifetime / label ('a, 'static): the latter are code.
            if src.startswith("\\", i + 1):
                j = i + 2
                while j < n and src[j] != "'":
                    j += 1
                out.append("'" + blank(src[i + 1 : j]) + "'")
                i = j + 1
            elif i + 2 < n and src[i + 2] == "'":
                out.append("' '" if src[i + 1] != "\n" else "'\n'")
                i += 3
            else:
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _ident(c: str) -> bool:
    return c.isalnum() or c == "_"


def matching(text: str, open_at: int) -> int:
    """The index of the bracket closing the one at `open_at` (len(text) when unbalanced)."""
    pairs = {"{": "}", "(": ")", "[": "]"}
    stack = []
    for j in range(open_at, len(text)):
        c = text[j]
        if c in pairs:
            stack.append(pairs[c])
        elif c in ")]}":
            if stack and stack[-1] == c:
                stack.pop()
            if not stack:
                return j
    return len(text)


def item_end(text: str, start: int) -> int:
    """Where the item starting at `start` ends: its `;` or the brace closing its body (index of that char)."""
    depth = 0
    assigned = False
    j = start
    while j < len(text):
        c = text[j]
        if c in "([":
            depth += 1
        elif c in ")]":
            depth -= 1
        elif c == "=" and depth == 0 and not text.startswith("=>", j) and text[j - 1] not in "=!<>":
            assigned = True
        elif c == ";" and depth == 0:
            return j
        elif c == "{" and depth == 0:
            close = matching(text, j)
            if not assigned:
                return close
            j = close
        j += 1
    return len(text)


CFG_TEST = re.compile(r"#\s*\[\s*cfg\s*\(\s*test\s*\)\s*\]")
ATTRIBUTE = re.compile(r"\s*#\s*\[")


def blank_test_code(text: str) -> str:
    """`text` with every `#[cfg(test)]` item (attribute included) blanked out, newlines kept."""
    chars = list(text)
    for m in reversed(list(CFG_TEST.finditer(text))):
        j = m.end()
        while a := ATTRIBUTE.match(text, j):  # further attributes on the same item
            j = matching(text, a.end() - 1) + 1
        end = item_end(text, j)
        for k in range(m.start(), min(end + 1, len(chars))):
            if chars[k] != "\n":
                chars[k] = " "
    return "".join(chars)


def line_of(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


# --- Modules ---------------------------------------------------------------------------------------------------


@dataclass
class Use:
    path: list[str]  # segments; the last may be "*" or "self"
    alias: str | None  # the name it binds (None for a glob)
    public: bool
    line: int


@dataclass
class Module:
    name: str  # "crate", "crate::webhook::service"
    file: str
    text: str = ""  # this module's own code: comments, literals, test code and inline child modules blanked
    children: dict[str, str] = field(default_factory=dict)  # child name -> module name
    uses: list[Use] = field(default_factory=list)
    line_offset: int = 0  # inline modules: the line in `file` where their text starts

    @property
    def parent(self) -> str | None:
        return self.name.rsplit("::", 1)[0] if "::" in self.name else None


MOD_DECL = re.compile(r"(?:\bpub(?:\s*\([^)]*\))?\s+)?\bmod\s+([A-Za-z_]\w*)\s*([;{])")
ITEM_DEF = r"\b(?:fn|struct|enum|trait|type|const|static|union|mod)\s+{name}\b|\bmacro_rules!\s*{name}\b"


class Crate:
    def __init__(self, root: str):
        self.root = root
        self.modules: dict[str, Module] = {}
        lib = os.path.join(root, "lib.rs")
        if not os.path.exists(lib):
            lib = os.path.join(root, "main.rs")
        self._load_file("crate", lib, root)

    def _load_file(self, name: str, path: str, child_dir: str) -> None:
        with open(path, encoding="utf-8") as f:
            text = blank_test_code(strip_comments_and_literals(f.read()))
        self._load(name, os.path.relpath(path), text, child_dir, 0)

    def _load(self, name: str, file: str, text: str, child_dir: str, line_offset: int) -> None:
        module = Module(name, file, line_offset=line_offset)
        self.modules[name] = module
        own = list(text)
        depth_at = _brace_depths(text)
        for m in MOD_DECL.finditer(text):
            if depth_at[m.start()] != 0:
                continue
            child, kind = m.group(1), m.group(2)
            child_name = f"{name}::{child}"
            module.children[child] = child_name
            if kind == "{":
                open_at = m.end() - 1
                close = matching(text, open_at)
                inner = text[open_at + 1 : close]
                self._load(
                    child_name,
                    file,
                    inner,
                    os.path.join(child_dir, child),
                    line_offset + line_of(text, open_at + 1) - 1,
                )
                for k in range(open_at + 1, close):
                    if own[k] != "\n":
                        own[k] = " "
            else:
                # `child.rs` or `child/mod.rs`; either way its own children are in `child/`.
                grandchildren = os.path.join(child_dir, child)
                for candidate in (grandchildren + ".rs", os.path.join(grandchildren, "mod.rs")):
                    if os.path.exists(candidate):
                        self._load_file(child_name, candidate, grandchildren)
                        break
        module.text = "".join(own)
        module.uses = parse_uses(module.text)

    def line(self, module: Module, index: int) -> int:
        return module.line_offset + line_of(module.text, index)

    # -- resolution --

    def defines(self, module: str, item: str) -> bool:
        return re.search(ITEM_DEF.format(name=re.escape(item)), self.modules[module].text) is not None

    def resolve(self, context: str, segments: list[str], seen: frozenset = frozenset()) -> tuple[str, bool] | None:
        """The module a path used in `context` leads to, and whether the path names that module itself (rather
        than an item in it). None when the path leaves the crate (std, dependencies) or names a local item."""
        segments = [s for s in segments if s]
        if not segments:
            return None
        first, rest = segments[0], segments[1:]
        module = self.modules[context]
        if first == "crate":
            current = "crate"
        elif first == "self":
            current = context
        elif first == "super":
            current = module.parent or "crate"
            while rest and rest[0] == "super":
                current = self.modules[current].parent or "crate"
                rest = rest[1:]
        elif first in module.children:
            current = module.children[first]
        else:
            target = self._through_use(context, first, seen)
            if target is None:
                return None
            current, is_module = target
            if not is_module:
                return current, False
        return self._walk(current, rest, seen)

    def _walk(self, current: str, rest: list[str], seen: frozenset) -> tuple[str, bool] | None:
        while rest:
            seg, rest = rest[0], rest[1:]
            if seg in ("*", "self"):
                return current, True
            module = self.modules[current]
            if seg in module.children:
                current = module.children[seg]
                continue
            # An item of `current`: defined there, or brought there by a `use` (re-exported or, for descendants,
            # visible as a private import).
            if not self.defines(current, seg):
                target = self._through_use(current, seg, seen)
                if target is not None:
                    if target[1]:
                        current = target[0]
                        continue
                    return target
            return current, False
        return current, True

    def _through_use(self, context: str, name: str, seen: frozenset) -> tuple[str, bool] | None:
        key = (context, name)
        if key in seen:
            return None
        seen = seen | {key}
        module = self.modules[context]
        for use in module.uses:
            if use.alias == name:
                return self.resolve(context, use.path, seen)
        for use in module.uses:
            if use.alias is None and use.public:  # `pub use x::*`
                target = self.resolve(context, use.path[:-1], seen)
                if target and target[1] and self.defines(target[0], name):
                    return target[0], False
        return None


def _brace_depths(text: str) -> list[int]:
    depths, depth = [], 0
    for c in text:
        if c == "}":
            depth -= 1
        depths.append(depth)
        if c == "{":
            depth += 1
    return depths


USE_DECL = re.compile(r"(?<![\w:])(pub(?:\s*\([^)]*\))?\s+)?use\s+([^;]*);")


def parse_uses(text: str) -> list[Use]:
    uses = []
    for m in USE_DECL.finditer(text):
        line = line_of(text, m.start())
        tree = re.sub(r"\s*(::|[{},])\s*", r"\1", re.sub(r"\s+", " ", m.group(2))).strip()
        for path, alias in expand_use_tree(tree):
            uses.append(Use(path, alias, m.group(1) is not None, line))
    return uses


def expand_use_tree(tree: str, prefix: list[str] | None = None) -> list[tuple[list[str], str | None]]:
    """`crate::a::{b, c::{self, D as E}, *}` (spaces only around `as`) → ([crate,a,b], b), ([crate,a,c], c),
    ([crate,a,c,D], E), ([crate,a,*], None)."""
    prefix = prefix or []
    tree = tree.lstrip(":")
    brace = tree.find("{")
    if brace >= 0:
        head = [s for s in tree[:brace].split("::") if s]
        inner = tree[brace + 1 : tree.rfind("}")]
        out = []
        for part in split_top_level(inner):
            if part:
                out.extend(expand_use_tree(part, prefix + head))
        return out
    alias = None
    if " as " in tree:
        tree, alias = (part.strip() for part in tree.rsplit(" as ", 1))
    path = prefix + [s for s in tree.split("::") if s]
    if not path:
        return []
    if path[-1] == "*":
        return [(path, None)]
    if path[-1] == "self":
        path = path[:-1]
        return [(path, alias or path[-1])] if path else []
    return [(path, alias or path[-1])]


def split_top_level(s: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, c in enumerate(s):
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        elif c == "," and depth == 0:
            parts.append(s[start:i])
            start = i + 1
    parts.append(s[start:])
    return parts


# --- The graph -------------------------------------------------------------------------------------------------

PATH = re.compile(r"(?<![\w:.$])((?:r#)?[A-Za-z_]\w*(?:\s*::\s*(?:[A-Za-z_]\w*|\*))+)")


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    file: str
    line: int
    path: str


def edges(crate: Crate) -> list[Edge]:
    found: dict[tuple[str, str], Edge] = {}

    def add(source: Module, target: str, index_line: int, path: str) -> None:
        if target == source.name:
            return
        found.setdefault((source.name, target), Edge(source.name, target, source.file, index_line, path))

    for module in crate.modules.values():
        # `use` declarations; a module imported by name is followed where the code uses it.
        code = USE_DECL.sub(lambda m: " " * len(m.group(0)), module.text)
        for use in module.uses:
            # A `pub use` only passes a name on, unless this module's own code uses the name too.
            if use.public and not (use.alias and re.search(rf"(?<![\w:]){re.escape(use.alias)}\b", code)):
                continue
            target = crate.resolve(module.name, use.path)
            # An item imported is an edge, and so is a glob (`use crate::x::*`: whatever x holds).
            if target and (not target[1] or use.path[-1] == "*"):
                add(module, target[0], module.line_offset + use.line, "::".join(use.path))
        # Paths in the code.
        for m in PATH.finditer(code):
            raw = re.sub(r"\s+", "", m.group(1))
            segments = raw.split("::")
            target = crate.resolve(module.name, segments)
            if target:
                add(module, target[0], crate.line(module, m.start()), raw)
    return sorted(found.values(), key=lambda e: (e.source, e.target))


def cycles(crate: Crate, graph: list[Edge]) -> list[list[Edge]]:
    """One cycle (as its edges) per strongly connected component of more than one module."""
    adjacency: dict[str, list[Edge]] = {name: [] for name in crate.modules}
    for edge in graph:
        adjacency[edge.source].append(edge)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    counter = [0]

    def connect(v: str) -> None:  # Tarjan, recursive: a crate's module graph is shallow
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for e in adjacency[v]:
            w = e.target
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(component)

    sys.setrecursionlimit(10_000)
    for v in sorted(adjacency):
        if v not in index:
            connect(v)

    found = []
    for component in components:
        members = set(component)
        start = min(component)
        # Shortest way back to `start` inside the component (breadth first).
        previous: dict[str, Edge] = {}
        frontier = [start]
        cycle = None
        while frontier and cycle is None:
            nxt = []
            for v in frontier:
                for e in adjacency[v]:
                    if e.target not in members:
                        continue
                    if e.target == start:
                        cycle = [e]
                        u = v
                        while u != start:
                            cycle.append(previous[u])
                            u = previous[u].source
                        cycle.reverse()
                        break
                    if e.target not in previous:
                        previous[e.target] = e
                        nxt.append(e.target)
                if cycle:
                    break
            frontier = nxt
        if cycle:
            found.append(cycle)
    return sorted(found, key=lambda c: c[0].source)


# --- Long functions --------------------------------------------------------------------------------------------

FN = re.compile(r"(?<![\w])fn\s+([A-Za-z_]\w*)")


@dataclass(frozen=True)
class Function:
    file: str
    name: str
    line: int
    lines: int


def functions(crate: Crate) -> list[Function]:
    """Every function with a body in the crate's modules (files of `#[cfg(test)]` modules and test items left out)."""
    found = []
    for path in sorted({module.file for module in crate.modules.values()}):
        with open(path, encoding="utf-8") as f:
            text = blank_test_code(strip_comments_and_literals(f.read()))
        for m in FN.finditer(text):
            body = _body_start(text, m.end())
            if body is None:
                continue
            end = matching(text, body)
            first, last = line_of(text, m.start()), line_of(text, end)
            found.append(Function(path, m.group(1), first, last - first + 1))
    return found


def _body_start(text: str, j: int) -> int | None:
    depth = 0
    while j < len(text):
        c = text[j]
        if c in "([":
            depth += 1
        elif c in ")]":
            depth -= 1
        elif depth == 0 and c == ";":
            return None  # a declaration without a body (trait method, extern)
        elif depth == 0 and c == "{":
            return j
        j += 1
    return None


# --- Main ------------------------------------------------------------------------------------------------------


def check(root: str, max_fn_lines: int = MAX_FN_LINES) -> list[str]:
    """What is wrong under `root`, one message per problem (empty when all is well)."""
    crate = Crate(root)
    problems = []
    for cycle in cycles(crate, edges(crate)):
        steps = " → ".join(e.source for e in cycle) + " → " + cycle[0].source
        evidence = "; ".join(f"{e.source} uses {e.path} ({e.file}:{e.line})" for e in cycle)
        problems.append(f"module cycle: {steps}\n    {evidence}")
    for f in functions(crate):
        if f.lines > max_fn_lines:
            problems.append(
                f"function too long: {f.name} is {f.lines} lines ({f.file}:{f.line}); at most {max_fn_lines}: "
                "give its rounds their own names"
            )
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", default=os.path.join(os.path.dirname(__file__), "..", "shared", "src"))
    parser.add_argument("--max-fn-lines", type=int, default=MAX_FN_LINES)
    parser.add_argument("--list", action="store_true", help="print every module's imports and the longest functions")
    args = parser.parse_args()
    root = os.path.normpath(args.root)
    if args.list:
        crate = Crate(root)
        for e in edges(crate):
            print(f"{e.source} -> {e.target}   ({e.path}, {e.file}:{e.line})")
        for f in sorted(functions(crate), key=lambda f: -f.lines)[:25]:
            print(f"{f.lines:4} {f.name} ({f.file}:{f.line})")
    problems = check(root, args.max_fn_lines)
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        print(f"check-modules: {len(problems)} problem(s) in {root}", file=sys.stderr)
        return 1
    crate = Crate(root)
    summary = f"no cycle, no function over {args.max_fn_lines} lines"
    print(f"check-modules: {len(crate.modules)} modules in {root}, {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
