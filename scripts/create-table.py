#!/usr/bin/env python3
"""Creates the idempotency table in a local moto from template.yaml's own definition (one source for both).

    scripts/create-table.py --endpoint-url http://127.0.0.1:5123 --table idempotency
    scripts/create-table.py --endpoint-url http://127.0.0.1:5123 --table idempotency --check   # exists, with TTL?
    scripts/create-table.py --print            # the CreateTable and UpdateTimeToLive requests, as JSON

Reads the `IdempotencyTable` resource of template.yaml (CloudFormation tags such as !Ref are tolerated), turns
its properties into DynamoDB's CreateTable request and, for its TTL, UpdateTimeToLive, and sends them with boto3
(installed with moto). Local only: it signs with dummy credentials (or --credentials FILE, once moto checks IAM) and
refuses endpoints that are not loopback. An existing table of that name is left as it is. Exit status 0 when the
table is ready. scripts/local-stack.py uses requests_from_properties for every table of the template.
"""

import argparse
import ipaddress
import json
import sys
import urllib.parse
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
RESOURCE = "IdempotencyTable"  # the default; --resource names another table of the template (WorkspacesTable)


class CloudFormationLoader(yaml.SafeLoader):
    """A safe loader that reads `!Ref x` as {"Ref": x} and `!If [...]` as {"Fn::If": [...]}."""


def _intrinsic(loader, tag_suffix, node):
    name = tag_suffix if tag_suffix in ("Ref", "Condition") else f"Fn::{tag_suffix}"
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


CloudFormationLoader.add_multi_constructor("!", _intrinsic)


def fail(message):
    print(f"[create-table.py] error: {message}", file=sys.stderr)
    sys.exit(1)


def literal(value, where):
    """The value itself; an intrinsic function (a one-key dict such as {"Ref": ...}) cannot be run locally."""
    if isinstance(value, dict) and len(value) == 1 and (next(iter(value)) in ("Ref", "Condition") or next(iter(value)).startswith("Fn::")):
        fail(f"{where} in template.yaml is {next(iter(value))}, which only CloudFormation can evaluate; keep it literal")
    return value


def requests_from_template(template_path, table_name, resource_name=None):
    """(CreateTable request, UpdateTimeToLive request or None) for `table_name`, from the template."""
    try:
        template = yaml.load(template_path.read_text(), Loader=CloudFormationLoader)
    except (OSError, yaml.YAMLError) as e:
        fail(f"cannot read {template_path}: {e}")
    logical_id = resource_name or RESOURCE
    resource = (template.get("Resources") or {}).get(logical_id)
    if not resource or resource.get("Type") != "AWS::DynamoDB::Table":
        fail(f"{template_path} has no AWS::DynamoDB::Table resource named {logical_id}")
    return requests_from_properties(resource.get("Properties") or {}, logical_id, table_name)


def requests_from_properties(properties, logical_id, table_name):
    """(CreateTable request, UpdateTimeToLive request or None) for `table_name`, from a table's template properties
    (scripts/local-stack.py hands it every table of the template, its intrinsic functions evaluated)."""
    props = dict(properties)
    create = {"TableName": table_name}
    for key in ("AttributeDefinitions", "KeySchema", "BillingMode", "GlobalSecondaryIndexes", "LocalSecondaryIndexes",
                "ProvisionedThroughput", "StreamSpecification"):
        if key in props:
            create[key] = literal(props.pop(key), f"{logical_id}.{key}")
    if "SSESpecification" in props:
        sse = literal(props.pop("SSESpecification"), f"{logical_id}.SSESpecification")
        # CloudFormation says SSEEnabled where the API says Enabled.
        create["SSESpecification"] = {("Enabled" if k == "SSEEnabled" else k): v for k, v in sse.items()}
    ttl = None
    if "TimeToLiveSpecification" in props:
        ttl = {"TableName": table_name, "TimeToLiveSpecification": literal(props.pop("TimeToLiveSpecification"), f"{logical_id}.TimeToLiveSpecification")}
    props.pop("TableName", None)  # the caller names the local table
    props.pop("Tags", None)
    props.pop("PointInTimeRecoverySpecification", None)  # backups: nothing to do locally
    props.pop("DeletionProtectionEnabled", None)
    if props:
        fail(f"{logical_id} has properties this script does not map to CreateTable yet: {', '.join(sorted(props))}; teach scripts/create-table.py")
    return create, ttl


def require_loopback(url):
    host = urllib.parse.urlsplit(url).hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        fail(f"--endpoint-url must be a local moto (127.0.0.1 or localhost), not {host or url!r}")


def check(client, create, ttl):
    """Exits 1 unless the table exists with the template's key schema and TTL."""
    name = create["TableName"]
    try:
        table = client.describe_table(TableName=name)["Table"]
    except client.exceptions.ResourceNotFoundException:
        fail(f"there is no table {name}")
    if table["KeySchema"] != create["KeySchema"]:
        fail(f"table {name} has the key schema {table['KeySchema']}, not {create['KeySchema']}")
    if ttl:
        described = client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        wanted = ttl["TimeToLiveSpecification"]["AttributeName"]
        if described.get("TimeToLiveStatus") != "ENABLED" or described.get("AttributeName") != wanted:
            fail(f"table {name} has no TTL on {wanted}")
    print(f"[create-table.py] table {name} exists (key {create['KeySchema'][0]['AttributeName']}, TTL ok)", file=sys.stderr)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoint-url", help="moto's URL, e.g. http://127.0.0.1:5123")
    parser.add_argument("--table", default="idempotency", help="table name (default: idempotency)")
    parser.add_argument("--template", type=Path, default=ROOT / "template.yaml")
    parser.add_argument("--resource", default=RESOURCE, help=f"the template's table resource (default: {RESOURCE})")
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--print", action="store_true", help="print the requests as JSON and send nothing")
    parser.add_argument("--check", action="store_true", help="create nothing; exit 0 if the table exists as defined")
    parser.add_argument("--credentials", type=Path,
                        help="a KEY=VALUE file with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (default: moto's dummy keys), "
                             "e.g. the local stack's .local/run-local/env/admin.env once moto checks IAM")
    args = parser.parse_args()

    create, ttl = requests_from_template(args.template, args.table, args.resource)
    if args.print:
        print(json.dumps({"CreateTable": create, "UpdateTimeToLive": ttl}, indent=2))
        return
    if not args.endpoint_url:
        fail("--endpoint-url is required (or --print)")
    require_loopback(args.endpoint_url)

    import boto3  # installed with moto; imported late so --print works without it

    keys = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    if args.credentials:
        try:
            keys.update(line.split("=", 1) for line in args.credentials.read_text().splitlines() if "=" in line)
        except OSError as e:
            fail(f"cannot read --credentials {args.credentials}: {e}")
    client = boto3.client(
        "dynamodb",
        endpoint_url=args.endpoint_url,
        region_name=args.region,
        aws_access_key_id=keys["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=keys["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=keys.get("AWS_SESSION_TOKEN"),
    )
    if args.check:
        check(client, create, ttl)
        return
    try:
        client.create_table(**create)
    except client.exceptions.ResourceInUseException:
        print(f"[create-table.py] table {args.table} already exists", file=sys.stderr)
    client.get_waiter("table_exists").wait(TableName=args.table, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    if ttl:
        client.update_time_to_live(**ttl)
    print(f"[create-table.py] table {args.table} is ready at {args.endpoint_url}", file=sys.stderr)


if __name__ == "__main__":
    main()
