#!/usr/bin/env python3
"""Checks that template.yaml's dashboard and alarms still match the functions and the metrics the code prints.

    scripts/check-monitoring.py [TEMPLATE]      (default: template.yaml at the repo root)

- every function (AWS::Serverless::Function) has its errors + throttles alarm and both lines on the dashboard;
- every alarm notifies AlarmTopicArn when it is set, and the dashboard's alarm widget lists each one;
- every custom metric and dimension the dashboard and alarms read is one shared/src/metrics.rs prints
  (a renamed metric would otherwise leave a graph empty and an alarm silent, with nothing failing).
Exits 1 with one line per problem.
"""

import json
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
METRICS_RS = ROOT / "shared" / "src" / "metrics.rs"
DASHBOARD = "OperationsDashboard"


class Loader(yaml.SafeLoader):
    """Reads CloudFormation's short tags (!Ref, !Sub...) as {"Ref": ...} and so on."""


def _tag(loader, suffix, node):
    key = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {key: value}


Loader.add_multi_constructor("!", _tag)


def rust_consts(module):
    """The string constants of `pub mod <module> { ... }` in shared/src/metrics.rs."""
    text = METRICS_RS.read_text()
    block = re.search(r"pub mod " + module + r" \{(.*?)\n\}", text, re.S)
    if not block:
        sys.exit(f"check-monitoring: no `pub mod {module}` in {METRICS_RS}")
    return set(re.findall(r'pub const \w+: &str = "([^"]+)";', block.group(1)))


def refs(node):
    """Every Ref target and GetAtt resource in a fragment."""
    found = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::GetAtt":
                found.add(value[0])
            else:
                found |= refs(value)
    elif isinstance(node, list):
        for item in node:
            found |= refs(item)
    return found


def main():
    template = yaml.load(Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "template.yaml").read_text(), Loader=Loader)
    resources = template["Resources"]
    problems = []
    functions = [k for k, v in resources.items() if v["Type"] == "AWS::Serverless::Function"]
    alarms = {k: v for k, v in resources.items() if v["Type"] == "AWS::CloudWatch::Alarm"}
    if DASHBOARD not in resources:
        sys.exit(f"check-monitoring: template has no {DASHBOARD}")
    body_sub = resources[DASHBOARD]["Properties"]["DashboardBody"]["Fn::Sub"]
    body_text = body_sub[0] if isinstance(body_sub, list) else body_sub
    # Substitute placeholders so the body parses; numbers stay numbers.
    dashboard = json.loads(re.sub(r"\$\{([^}!]+)\}", lambda m: "1" if "Seconds" in m.group(1) else "@" + m.group(1), body_text))
    widgets = [w for w in dashboard["widgets"] if w["type"] == "metric"]

    def widget_rows(metric):
        return [row for w in widgets for row in w["properties"].get("metrics", []) if metric in row[:2]]

    for function in functions:
        watched = {m for alarm in alarms.values() if function in refs(alarm["Properties"].get("Metrics", []))
                   for m in (q.get("MetricStat", {}).get("Metric", {}).get("MetricName")
                             for q in alarm["Properties"]["Metrics"]) if m}
        for metric in ("Errors", "Throttles"):
            if metric not in watched:
                problems.append(f"{function}: no alarm watches its {metric} (add a <Name>FailingAlarm)")
            if not any(f"@{function}" in row for row in widget_rows(metric)):
                problems.append(f"{function}: the dashboard's {metric} widget has no line for it")

    listed = {a for w in dashboard["widgets"] if w["type"] == "alarm" for a in w["properties"]["alarms"]}
    for name, alarm in alarms.items():
        props = alarm["Properties"]
        if "AlarmTopicArn" not in refs(props.get("AlarmActions")):
            problems.append(f"{name}: AlarmActions does not notify AlarmTopicArn")
        if f"@{name}.Arn" not in listed:
            problems.append(f"{name}: missing from the dashboard's alarm widget")

    names, dimensions = rust_consts("names"), rust_consts("dimensions")
    namespaced = []
    for w in widgets:
        for row in w["properties"].get("metrics", []):
            if isinstance(row[0], str) and row[0] == "@MetricsNamespaceValue":
                namespaced.append((w["properties"]["title"], row[1], row[2:-1:2]))
            elif isinstance(row[0], dict) and "expression" in row[0]:
                for metric in re.findall(r'MetricName=\\?"(\w+)', row[0]["expression"]):
                    namespaced.append((w["properties"]["title"], metric, []))
    for name, alarm in alarms.items():
        props = alarm["Properties"]
        if "MetricName" in props and "Namespace" in props and "AWS/" not in json.dumps(props["Namespace"]):
            namespaced.append((name, props["MetricName"], [d["Name"] for d in props.get("Dimensions", [])]))
        for query in props.get("Metrics", []):
            metric = query.get("MetricStat", {}).get("Metric", {})
            if metric and "AWS/" not in json.dumps(metric.get("Namespace")):
                namespaced.append((name, metric["MetricName"], [d["Name"] for d in metric.get("Dimensions", [])]))
    for where, metric, keys in namespaced:
        if metric not in names:
            problems.append(f"{where}: reads metric {metric}, which shared/src/metrics.rs never prints")
        for key in keys:
            if key not in dimensions:
                problems.append(f"{where}: reads dimension {key}, which shared/src/metrics.rs never prints")

    for problem in problems:
        print(f"check-monitoring: {problem}", file=sys.stderr)
    if problems:
        return 1
    print(f"monitoring ok: {len(functions)} functions, {len(alarms)} alarms, {len(namespaced)} custom metric reads")
    return 0


if __name__ == "__main__":
    sys.exit(main())
