#!/usr/bin/env python3
"""Proves scripts/check-modules.py bites: tiny crates with a cycle (through a `pub use` re-export, `super::` and a
`use` group), with functions of 80 and 81 lines, and with what must not count (test code, a parent re-exporting its
children, braces and `fn` inside literals and comments). Pure Python 3; run by scripts/test.sh."""

import importlib.util
import os
import sys
import tempfile
import textwrap
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("check_modules", os.path.join(HERE, "check-modules.py"))
check_modules = importlib.util.module_from_spec(spec)
sys.modules["check_modules"] = check_modules  # dataclasses look their module up
spec.loader.exec_module(check_modules)


def crate(files: dict[str, str]) -> str:
    """A crate's src/ in a temporary directory: {relative path: source}."""
    root = tempfile.mkdtemp(prefix="check-modules-")
    for path, source in files.items():
        full = os.path.join(root, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w", encoding="utf-8") as f:
            f.write(textwrap.dedent(source))
    return root


def function(name: str, lines: int, indent: str = "") -> str:
    """A function `lines` long, from its `fn` line to its closing brace."""
    body = [f"{indent}    let _ = {i};" for i in range(lines - 2)]
    return "\n".join([f"{indent}pub fn {name}() {{", *body, f"{indent}}}"]) + "\n"


class Cycles(unittest.TestCase):
    def test_a_cycle_through_a_reexport_super_and_a_use_group_is_named_with_its_evidence(self):
        root = crate(
            {
                "lib.rs": "pub mod a;\npub mod b;\npub mod c;\n",
                "a.rs": "use crate::{b::Thing, c as _};\npub fn f() -> Thing { Thing }\n",
                # `b` re-exports `inner`'s item: the edge goes to `b::inner`, not to `b`.
                "b/mod.rs": "mod inner;\npub use inner::Thing;\n",
                "b/inner.rs": "pub struct Thing;\npub fn g() { crate::c::h(); }\n",
                "c.rs": "pub fn h() { let _ = super::a::f(); }\n",
            }
        )
        problems = check_modules.check(root)
        self.assertEqual(len(problems), 1, problems)
        self.assertIn("module cycle: crate::a → crate::b::inner → crate::c → crate::a", problems[0])
        self.assertIn("crate::c uses super::a::f", problems[0])

    def test_a_cycle_closed_by_a_constant_reached_through_the_parent_is_found(self):
        # The handoff command ↔ settings shape: `super::VAR` re-exported by the parent from the other child.
        root = crate(
            {
                "lib.rs": "pub mod handoff;\n",
                "handoff/mod.rs": "mod command;\nmod settings;\npub use settings::VAR;\n",
                "handoff/command.rs": "pub struct Commands;\npub fn name() -> &'static str { super::VAR }\n",
                "handoff/settings.rs": "use super::command::Commands;\npub const VAR: &str = \"X\";\n"
                "pub fn commands() -> Commands { Commands }\n",
            }
        )
        problems = check_modules.check(root)
        self.assertEqual(len(problems), 1, problems)
        self.assertIn("crate::handoff::command → crate::handoff::settings → crate::handoff::command", problems[0])

    def test_a_reexport_the_module_itself_uses_is_an_edge(self):
        # http re-exports auth's guard and uses it; auth uses http's error: a cycle, though every path is short.
        root = crate(
            {
                "lib.rs": "pub mod auth;\npub mod http;\n",
                "http.rs": "pub use crate::auth::Guard;\npub struct Error;\npub fn respond(guard: &Guard) {}\n",
                "auth.rs": "use crate::http::Error;\npub struct Guard;\npub fn check() -> Error { Error }\n",
            }
        )
        problems = check_modules.check(root)
        self.assertEqual(len(problems), 1, problems)
        self.assertIn("crate::auth → crate::http → crate::auth", problems[0])

    def test_what_points_down_passes(self):
        root = crate(
            {
                "lib.rs": "pub mod port;\npub mod domain;\n",
                # A parent that re-exports its children and defines what they share is not in a cycle with them.
                "port/mod.rs": "pub mod memory;\npub use memory::Memory;\npub trait Port {}\n",
                "port/memory.rs": "use super::Port;\npub struct Memory;\nimpl Port for Memory {}\n",
                "domain.rs": "use crate::port::{self, Port};\npub fn run(p: &dyn Port) { let _ = port::Memory; }\n",
            }
        )
        self.assertEqual(check_modules.check(root), [])

    def test_test_code_is_not_part_of_the_graph(self):
        root = crate(
            {
                "lib.rs": "pub mod a;\npub mod b;\n#[cfg(test)]\nmod tests;\n",
                "a.rs": "pub fn f() { crate::b::g(); }\n",
                "b.rs": "pub fn g() {}\n#[cfg(test)]\nmod tests {\n    use crate::a::f;\n}\n",
                "tests.rs": "use crate::a::f;\n",
            }
        )
        self.assertEqual(check_modules.check(root), [])


class UseTrees(unittest.TestCase):
    def test_groups_aliases_self_and_globs_expand_to_paths(self):
        source = "pub use crate::a::{\n    basic, c::{self, D as E},\n    *,\n};\nuse super::as_is as Alias;\n"
        uses = check_modules.parse_uses(source)
        found = [("::".join(u.path), u.alias, u.public) for u in uses]
        self.assertEqual(
            found,
            [
                ("crate::a::basic", "basic", True),
                ("crate::a::c", "c", True),
                ("crate::a::c::D", "E", True),
                ("crate::a::*", None, True),
                ("super::as_is", "Alias", False),
            ],
        )


class LongFunctions(unittest.TestCase):
    def test_a_function_over_the_limit_is_named_and_one_at_it_is_not(self):
        root = crate(
            {
                "lib.rs": "pub mod flow;\n",
                "flow.rs": function("hand_off", 81) + function("gather", 80),
            }
        )
        problems = check_modules.check(root)
        self.assertEqual(len(problems), 1, problems)
        self.assertIn("function too long: hand_off is 81 lines", problems[0])
        self.assertIn("flow.rs:1", problems[0])

    def test_methods_nested_functions_and_odd_signatures_are_measured(self):
        signature = "pub async fn relay_event<'a, F: Fn(u8) -> u8>(&'a self, f: F) -> Result<(), [u8; 2]>"
        method = function("relay_event", 90, indent="    ").replace("pub fn relay_event()", signature)
        nested = "        fn claim() -> Option<&'static str> {\n            None\n        }\n"
        method = method.replace("        let _ = 0;\n", nested, 1)
        root = crate({"lib.rs": "pub mod service;\n", "service.rs": "pub struct S;\nimpl S {\n" + method + "}\n"})
        problems = check_modules.check(root)
        self.assertEqual(len(problems), 1, problems)
        self.assertIn("relay_event is 92 lines", problems[0])
        lengths = {f.name: f.lines for f in check_modules.functions(check_modules.Crate(root))}
        self.assertEqual(lengths, {"relay_event": 92, "claim": 3})

    def test_test_code_literals_and_comments_do_not_count(self):
        root = crate(
            {
                "lib.rs": "pub mod sanitize;\n#[cfg(test)]\nmod tests;\n",
                # Braces in strings, chars and comments do not end (or start) a body; lifetimes are not chars.
                "sanitize.rs": 'pub fn markup<\'a>(s: &\'a str) -> &\'a str {\n    let _ = "}}} fn x() {";\n'
                "    let _ = '}';\n    let _ = r#\"}\"#;\n    // }\n    /* } /* nested } */ */\n    s\n}\n"
                "#[cfg(test)]\nmod tests {\n" + function("a_long_test", 120, indent="    ") + "}\n",
                "tests.rs": function("another_long_test", 200),
            }
        )
        self.assertEqual(check_modules.check(root), [])
        lengths = {f.name: f.lines for f in check_modules.functions(check_modules.Crate(root))}
        self.assertEqual(lengths, {"markup": 8})


class RealTree(unittest.TestCase):
    def test_the_shared_crate_is_read(self):
        root = os.path.join(HERE, "..", "shared", "src")
        modules = check_modules.Crate(root).modules
        # A sample of what must be found for the check to mean anything: nested, re-exported and feature-gated.
        for name in ["crate::http::error", "crate::webhook::relay", "crate::mcp", "crate::store::dynamodb"]:
            self.assertIn(name, modules)


if __name__ == "__main__":
    sys.exit(0 if unittest.main(exit=False, verbosity=1).result.wasSuccessful() else 1)
