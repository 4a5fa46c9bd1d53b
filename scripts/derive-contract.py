#!/usr/bin/env python3
"""Derives the parts of Intercom's OpenAPI contracts (REST API 2.16, the current one, and 2.14) this repository
uses, into tests/contract/.

usage: scripts/derive-contract.py [--check] [--spec-dir DIR]

Writes, for each VERSION in VERSIONS (or with --check, compares byte for byte and exits 1 on any difference):
  tests/contract/intercom-VERSION.prism.json     the operations we call, every schema and response they reach by
                                                 $ref, the security scheme; descriptions stripped; made from the
                                                 Prism-ready copy, with the repairs fake-intercom's prism.rs applies
  tests/contract/intercom-VERSION.examples.json  every example answer of those operations, from the RAW YAML
                                                 (the Prism-ready copy coerces example ids to strings; Intercom
                                                 sends some as numbers, and our decoders must take both)
and once:
  tests/contract/LICENSE-intercom.md             Intercom's MIT notice, which must travel with the subsets

DIR defaults to ../shared/intercom-openapi beside the repository. Needs PyYAML (a dependency of cfn-lint,
which scripts/setup.sh installs); the script installs nothing.
"""

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "tests" / "contract"
LICENSE = "LICENSE.md"
LICENSE_FILE = "LICENSE-intercom.md"

# Every operation the product, the fake Intercom or the contract tests call on API 2.14 (what the product spoke
# until 2.16; tests/integration/tests/spec_examples.rs decodes its examples). Add a line here (and re-run)
# before calling a new one: an operation missing from the subset is a 404 from Prism.
OPERATIONS_2_14 = [
    ("GET", "/me"),
    ("GET", "/admins"),
    ("GET", "/admins/{admin_id}"),
    ("PUT", "/admins/{admin_id}/away"),
    ("GET", "/teams"),
    ("GET", "/teams/{team_id}"),
    ("GET", "/tags"),
    ("POST", "/tags"),
    ("GET", "/tags/{tag_id}"),
    ("POST", "/contacts"),
    ("POST", "/contacts/search"),
    ("GET", "/contacts/{contact_id}"),
    ("PUT", "/contacts/{contact_id}"),
    ("GET", "/contacts/find_by_external_id/{external_id}"),
    ("POST", "/contacts/{contact_id}/archive"),
    ("POST", "/contacts/{contact_id}/unarchive"),
    ("GET", "/data_attributes"),
    ("POST", "/data_attributes"),
    ("POST", "/conversations"),
    ("GET", "/conversations/{conversation_id}"),
    ("PUT", "/conversations/{conversation_id}"),
    ("POST", "/conversations/search"),
    ("POST", "/conversations/{conversation_id}/reply"),
    ("POST", "/conversations/{conversation_id}/parts"),
    ("POST", "/conversations/{conversation_id}/tags"),
    ("DELETE", "/conversations/{conversation_id}/tags/{tag_id}"),
]

# API 2.16: the same, plus what 2.16 adds that the product or the fake use.
OPERATIONS_2_16 = OPERATIONS_2_14 + [
    # a contact's companies and tags (issue 21: get-contact)
    ("GET", "/contacts/{contact_id}/companies"),
    ("POST", "/contacts/{contact_id}/companies"),
    ("GET", "/contacts/{contact_id}/tags"),
    ("POST", "/contacts/{contact_id}/tags"),
    ("POST", "/companies"),
    ("GET", "/companies/{company_id}"),
    # the help center and internal articles (issue 21: search-knowledge)
    ("GET", "/help_center/help_centers"),
    ("GET", "/articles"),
    ("GET", "/articles/{article_id}"),
    ("GET", "/articles/search"),
    ("GET", "/internal_articles"),
    ("GET", "/internal_articles/{internal_article_id}"),
    ("GET", "/internal_articles/search"),
    # tickets (issue 21: create-ticket, get-ticket, update-ticket, convert-to-ticket)
    ("GET", "/ticket_types"),
    ("GET", "/ticket_types/{ticket_type_id}"),
    ("GET", "/ticket_states"),
    ("POST", "/tickets"),
    ("GET", "/tickets/{ticket_id}"),
    ("PUT", "/tickets/{ticket_id}"),
    ("POST", "/tickets/{ticket_id}/reply"),
    ("POST", "/conversations/{conversation_id}/convert"),
    # who is there (issue 22: office hours, team load, away status)
    ("GET", "/office_hours_schedules"),
    ("POST", "/office_hours_schedules"),
    ("GET", "/office_hours_schedules/{id}"),
    ("PUT", "/office_hours_schedules/{id}"),
    ("DELETE", "/office_hours_schedules/{id}"),
    ("GET", "/office_hours_schedules/{office_hours_schedule_id}/office_hours_exceptions"),
    ("POST", "/office_hours_schedules/{office_hours_schedule_id}/office_hours_exceptions"),
    ("GET", "/office_hours_schedules/{office_hours_schedule_id}/office_hours_exceptions/{id}"),
    ("PUT", "/office_hours_schedules/{office_hours_schedule_id}/office_hours_exceptions/{id}"),
    ("DELETE", "/office_hours_schedules/{office_hours_schedule_id}/office_hours_exceptions/{id}"),
    ("GET", "/teams/{team_id}/metrics"),
    ("GET", "/away_status_reasons"),
    # archiving a data attribute (issue 23: the doctor's broken-setup check)
    ("PUT", "/data_attributes/{data_attribute_id}"),
]

VERSIONS = {"2.14": OPERATIONS_2_14, "2.16": OPERATIONS_2_16}

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
# Keys whose value is data (kept verbatim), not OpenAPI structure.
DATA_KEYS = {"example", "default", "enum"}
# Keys whose value maps names chosen by the spec's authors (never keywords) to OpenAPI objects.
NAME_MAPS = {"paths", "content", "schemas", "properties", "headers", "securitySchemes", "encoding"}
DOC_KEYS = {"description", "summary"}


def die(msg):
    print(f"derive-contract: {msg}", file=sys.stderr)
    sys.exit(2)


# ----- repairs (the same as tests/fake-intercom/src/prism.rs `repair_spec_for_prism`) -----


def repair_for_prism(spec):
    """Makes prism.rs' runtime repair a no-op: `nullable: false` without `type` makes ajv refuse the schema
    (Prism then validates nothing against it), and the recursive oneOf of AND/OR searches rejects valid ones."""

    def drop_untyped_nullable(node):
        if isinstance(node, dict):
            if "type" not in node and node.get("nullable") is False:
                del node["nullable"]
            for child in node.values():
                drop_untyped_nullable(child)
        elif isinstance(node, list):
            for child in node:
                drop_untyped_nullable(child)

    drop_untyped_nullable(spec)
    schemas = spec.get("components", {}).get("schemas", {})
    value = schemas.get("multiple_filter_search_request", {}).get("properties", {}).get("value")
    if isinstance(value, dict) and "oneOf" in value:
        # Rebuild in order so the key keeps its place (byte-stable output).
        items = [("anyOf" if k == "oneOf" else k, v) for k, v in value.items()]
        value.clear()
        value.update(items)


# ----- selecting what we use -----


def find_operations(spec, operations):
    """{(METHOD, path): operation} for `operations`; exits naming any the spec does not have."""
    found, missing = {}, []
    for method, path in operations:
        op = spec["paths"].get(path, {}).get(method.lower())
        if op is None:
            missing.append(f"{method} {path}")
        else:
            found[(method, path)] = op
    if missing:
        die("the spec has no " + ", ".join(missing) + " (fix OPERATIONS_* in scripts/derive-contract.py)")
    return found


def refs_in(node, out):
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            out.append(ref)
        for child in node.values():
            refs_in(child, out)
    elif isinstance(node, list):
        for child in node:
            refs_in(child, out)


def reachable_components(spec, roots):
    """{section: set(names)} of every component the roots reach, transitively, by `#/components/...` $ref."""
    seen = {}
    pending = []
    refs_in(roots, pending)
    while pending:
        ref = pending.pop()
        parts = ref.split("/")
        if len(parts) != 4 or parts[:2] != ["#", "components"]:
            die(f"unsupported $ref {ref!r} (only #/components/<section>/<name>)")
        section, name = parts[2], parts[3]
        target = spec.get("components", {}).get(section, {}).get(name)
        if target is None:
            die(f"dangling $ref {ref!r}")
        if name in seen.setdefault(section, set()):
            continue
        seen[section].add(name)
        refs_in(target, pending)
    return seen


def subset(spec, operations):
    ops = find_operations(spec, operations)
    wanted = set(ops)
    paths = {}
    for path, item in spec["paths"].items():
        kept = {k: v for k, v in item.items() if k not in HTTP_METHODS or (k.upper(), path) in wanted}
        if any(k in HTTP_METHODS for k in kept):
            paths[path] = kept
    comps = spec.get("components", {})
    reached = reachable_components(spec, [paths, comps.get("securitySchemes", {})])
    components = {}
    for section, entries in comps.items():
        if section == "securitySchemes":
            components[section] = entries
        elif section in reached:
            components[section] = {k: v for k, v in entries.items() if k in reached[section]}
    used_tags = {t for op in ops.values() for t in op.get("tags", [])}
    out = {}
    for key, value in spec.items():
        if key == "paths":
            out[key] = paths
        elif key == "components":
            out[key] = components
        elif key == "tags":
            out[key] = [t for t in value if t.get("name") in used_tags]
        else:
            out[key] = value
    return out


# ----- stripping prose -----


def strip_prose(node, key=None):
    """Drops `description`/`summary` text everywhere but in data (examples, defaults, enums) and in property
    names; a Response Object keeps its (short, required) `description`."""
    if isinstance(node, list):
        return [strip_prose(v) for v in node]
    if not isinstance(node, dict):
        return node
    if key in NAME_MAPS:
        return {name: strip_prose(v) for name, v in node.items()}
    if key == "responses":  # status -> Response Object, or (components) name -> Response Object
        return {code: strip_prose(resp, key="<response>") for code, resp in node.items()}
    if key == "examples":  # name -> Example Object: its value is data
        return {name: {k: v for k, v in ex.items() if k not in DOC_KEYS} for name, ex in node.items()}
    out = {}
    for k, v in node.items():
        if k in DOC_KEYS and isinstance(v, str) and not (key == "<response>" and k == "description"):
            continue
        out[k] = v if k in DATA_KEYS else strip_prose(v, key=k)
    return out


# ----- raw examples -----


def raw_examples(raw, operations):
    """{"METHOD path": {status: {example name: value}}} for every documented answer with an example."""
    ops = find_operations(raw, operations)
    out = {}
    for (method, path), op in ops.items():
        by_status = {}
        for status, resp in op.get("responses", {}).items():
            if "$ref" in resp:
                resp = raw["components"]["responses"][resp["$ref"].split("/")[-1]]
            media = (resp.get("content") or {}).get("application/json") or {}
            named = {name: ex["value"] for name, ex in (media.get("examples") or {}).items() if "value" in ex}
            if "example" in media:
                named.setdefault("example", media["example"])
            if named:
                by_status[str(status)] = named
        out[f"{method} {path}"] = by_status
    return out


def dumps(value):
    def refuse(obj):
        raise TypeError(f"{type(obj).__name__} {obj!r} is not JSON (a YAML date? quote it in the source)")

    return json.dumps(value, indent=1, ensure_ascii=False, default=refuse) + "\n"


def derive(spec_dir):
    try:
        import yaml
    except ImportError:
        die("PyYAML is needed (`python3 -m pip install pyyaml`; cfn-lint, installed by scripts/setup.sh, brings it)")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    if not (spec_dir / LICENSE).is_file():
        die(f"{spec_dir / LICENSE} not found (pass --spec-dir)")
    files = {}
    for version, operations in VERSIONS.items():
        raw_spec, prism_spec = f"api.intercom.io-{version}.yaml", f"api.intercom.io-{version}.prism.json"
        for name in (raw_spec, prism_spec):
            if not (spec_dir / name).is_file():
                die(f"{spec_dir / name} not found (pass --spec-dir)")
        with open(spec_dir / prism_spec, encoding="utf-8") as f:
            prism = json.load(f)
        with open(spec_dir / raw_spec, encoding="utf-8") as f:
            raw = yaml.load(f, Loader=loader)
        repair_for_prism(prism)
        files[f"intercom-{version}.prism.json"] = dumps(strip_prose(subset(prism, operations)))
        files[f"intercom-{version}.examples.json"] = dumps(raw_examples(raw, operations))
    files[LICENSE_FILE] = (spec_dir / LICENSE).read_text(encoding="utf-8")
    return files


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="compare with tests/contract/ instead of writing")
    parser.add_argument("--spec-dir", type=Path, default=ROOT.parent / "shared" / "intercom-openapi")
    args = parser.parse_args()
    files = derive(args.spec_dir.resolve())
    if args.check:
        stale = [n for n, text in files.items() if not (OUT_DIR / n).is_file() or (OUT_DIR / n).read_text("utf-8") != text]
        if stale:
            print("tests/contract/ is out of date with " + str(args.spec_dir) + ": " + ", ".join(stale), file=sys.stderr)
            print(f"regenerate with: python3 scripts/derive-contract.py --spec-dir {args.spec_dir} && git add tests/contract",
                  file=sys.stderr)
            return 1
        print(f"tests/contract/ matches {args.spec_dir}")
        return 0
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (OUT_DIR / name).write_text(text, encoding="utf-8")
        print(f"wrote tests/contract/{name} ({len(text.encode())} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
