#!/usr/bin/env python3
"""Gives each function of template.yaml, run locally, what the template gives it: its environment and its role.

    scripts/local-stack.py setup --endpoint-url http://127.0.0.1:5123 --out .local/run-local/env \\
        [--template template.yaml] [--param Name=Value]... [--name LogicalId=physical-name]... \\
        [--set NAME=VALUE]... [--secret NAME]... [--caller-vars "NAME NAME ..."] [--no-iam]
    scripts/local-stack.py report --iam-log .local/run-local/iam-refusals.jsonl
    scripts/local-stack.py verify --out .local/run-local/env --target-dir target [--caller-vars "..."]

setup, against a local moto (scripts/moto-server.py) whose IAM checks are still off:
  1. transforms the template with samtranslator (what `sam deploy` hands CloudFormation: each function's role with
     its policies, each function's environment with Globals merged in);
  2. evaluates the intrinsic functions (Ref, GetAtt, Sub, If, conditions...) with the parameters' defaults, or the
     local values given with --param, in account 123456789012, region us-east-1;
  3. creates in moto the DynamoDB tables, SQS queues and KMS keys of the template that moto lacks (named with --name,
     else after their logical id: IdempotencyTable -> idempotency, RelayQueue -> relay.fifo);
  4. for each function, writes OUT/<binary>.env (mode 600; scripts/lambda-runner.sh exports it when cargo runs the
     function): the template's variables, resolved (a variable the caller had set, listed in --caller-vars, keeps
     the caller's value); in place of a variable that names a Secrets Manager secret, the local secrets (--secret
     NAME: that variable's value from this environment); the --set values; the AWS region and moto's endpoint; and
     credentials of the function's role: the role is created in moto with the template's statements (AWS managed
     policies from moto's copy) and assumed, session name = the function, as Lambda does;
  5. creates the user local-admin (every action) for the scripts around the functions (OUT/admin.env), writes
     OUT/resources.json (each provisioned resource's Ref and attributes), and turns moto's IAM checks on
     (POST /moto-api/reset-auth 0): from then on every request needs a valid signature and a policy that allows it.
  --no-iam skips the roles and the checks: every function gets moto's dummy keys, which may do anything.

report: reads the refusals scripts/moto-server.py --iam-log recorded, prints each as function, action, resource
and count, and exits 1 if there is any (0 when there is none).

verify (Linux): reads the environment of every running process of the functions' binaries that talks to this moto
and exits 1 unless each has every variable of its env file, with that value, and none of the variables the
template gives only to other functions.

Local only: the endpoint must be loopback. Nothing here reads Secrets Manager: secrets come from the environment.
"""

import argparse
import base64
import collections
import importlib.util
import ipaddress
import json
import os
import re
import sys
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REGION = "us-east-1"
ACCOUNT = "123456789012"
PARTITION = "aws"
STACK = "local"
ADMIN_USER = "local-admin"
NO_VALUE = object()  # Ref AWS::NoValue: the property (or variable) is left out
SECRET_ARN = re.compile(r"^arn:aws[a-z-]*:secretsmanager:")


def fail(message):
    print(f"[local-stack.py] error: {message}", file=sys.stderr)
    sys.exit(1)


def note(message):
    print(f"[local-stack.py] {message}", file=sys.stderr)


def kebab(logical_id, suffixes):
    """IdempotencyTable -> idempotency, RelayDeadLetterQueue -> relay-dead-letter."""
    for suffix in suffixes:
        if logical_id.endswith(suffix) and logical_id != suffix:
            logical_id = logical_id[: -len(suffix)]
            break
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", logical_id).lower()


# ---------------------------------------------------------------------------------------------------------------
# The template, after the SAM transform, and its intrinsic functions
# ---------------------------------------------------------------------------------------------------------------
def transformed(template_path):
    """The CloudFormation template `sam deploy` would send, from a SAM template (YAML or JSON)."""
    from samtranslator.model.exceptions import InvalidDocumentException
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator
    from samtranslator.yaml_helper import yaml_parse

    try:
        doc = yaml_parse(template_path.read_text())
    except OSError as e:
        fail(f"cannot read {template_path}: {e}")
    # `sam build` replaces a local CodeUri with the built code's S3 location; the transform insists on one.
    code = "s3://local-stack/code.zip"
    if isinstance((doc.get("Globals") or {}).get("Function"), dict) and "CodeUri" in doc["Globals"]["Function"]:
        doc["Globals"]["Function"]["CodeUri"] = code
    for resource in (doc.get("Resources") or {}).values():
        if resource.get("Type") == "AWS::Serverless::Function" and "CodeUri" in (resource.get("Properties") or {}):
            resource["Properties"]["CodeUri"] = code

    class NoManagedPolicyNames:  # the template names managed policies by ARN; a bare name would need IAM
        def load(self):
            return {}

    import boto3

    translator = Translator(None, Parser(), boto_session=boto3.session.Session(region_name=REGION))
    try:
        return translator.translate(doc, parameter_values={}, get_managed_policy_map=NoManagedPolicyNames().load)
    except InvalidDocumentException as e:
        fail(f"the SAM transform refused {template_path}: " + "; ".join(str(c) for c in e.causes))


class Stack:
    """The transformed template, evaluated the way CloudFormation would, with local physical resources."""

    def __init__(self, doc, params, names):
        self.doc = doc
        self.resources = doc.get("Resources") or {}
        self.conditions = doc.get("Conditions") or {}
        self.mappings = doc.get("Mappings") or {}
        self.params = self._parameters(doc.get("Parameters") or {}, params)
        for logical_id in names:
            if logical_id not in self.resources:
                fail(f"--name {logical_id}=...: the template has no resource {logical_id}")
        self.names = names
        self.physical = {}  # logical id -> {"Ref": ..., attribute: ...}
        self._condition_values = {}

    @staticmethod
    def _parameters(declared, given):
        values = {}
        for name in given:
            if name not in declared:
                fail(f"--param {name}=...: the template has no parameter {name}")
        for name, spec in declared.items():
            if name in given:
                value = given[name]
            elif "Default" in spec:
                value = spec["Default"]
            else:
                continue  # an error only if something uses it
            kind = spec.get("Type", "String")
            if kind == "CommaDelimitedList" or kind.startswith("List<"):
                value = [v.strip() for v in str(value).split(",")] if str(value) else []
            elif isinstance(value, bool):
                value = "true" if value else "false"
            else:
                value = str(value)
            values[name] = value
        return values

    def is_true(self, name):
        if name not in self._condition_values:
            if name not in self.conditions:
                fail(f"the template uses the condition {name}, which it does not define")
            self._condition_values[name] = bool(self.eval(self.conditions[name], f"Conditions.{name}"))
        return self._condition_values[name]

    def exists(self, logical_id):
        condition = self.resources[logical_id].get("Condition")
        return condition is None or self.is_true(condition)

    def attribute(self, logical_id, attribute, where):
        if logical_id not in self.resources:
            fail(f"{where}: the template has no resource {logical_id}")
        if not self.exists(logical_id):
            fail(f"{where}: {logical_id} is not created (its condition is false) but is used")
        attrs = self.physical.get(logical_id) or self._derived(logical_id)
        if attribute not in attrs:
            kind = self.resources[logical_id]["Type"]
            fail(f"{where}: scripts/local-stack.py does not know {kind}'s {attribute} locally; teach it (Stack._derived)")
        return attrs[attribute]

    def _derived(self, logical_id):
        """Ref and attributes of a resource that is not provisioned in moto (nothing local reads it)."""
        kind = self.resources[logical_id]["Type"]
        props = self.resources[logical_id].get("Properties") or {}
        name = self.names.get(logical_id) or logical_id
        arn = f"arn:{PARTITION}:{{}}:{REGION}:{ACCOUNT}:{{}}".format
        if kind == "AWS::SecretsManager::Secret":
            secret = self.names.get(logical_id) or props.get("Name") or kebab(logical_id, ["Secret"])
            value = arn("secretsmanager", f"secret:{secret}-LoCaL0")
            attrs = {"Ref": value, "Id": value}
        elif kind == "AWS::IAM::Role":
            attrs = {"Ref": name, "Arn": f"arn:{PARTITION}:iam::{ACCOUNT}:role/{name}", "RoleId": f"AROA{name.upper()[:16]}"}
        elif kind == "AWS::Lambda::Function":
            attrs = {"Ref": name, "Arn": arn("lambda", f"function:{name}")}
        elif kind == "AWS::Logs::LogGroup":
            group = self.eval(props.get("LogGroupName", name), f"{logical_id}.LogGroupName")
            attrs = {"Ref": group, "Arn": arn("logs", f"log-group:{group}:*")}
        elif kind == "AWS::SNS::Topic":
            value = arn("sns", name)
            attrs = {"Ref": value, "TopicArn": value, "TopicName": name}
        else:
            attrs = {"Ref": name}
        self.physical[logical_id] = attrs
        return attrs

    def eval(self, node, where):
        """The value of a template fragment: intrinsic functions evaluated, AWS::NoValue dropped."""
        if isinstance(node, list):
            items = [self.eval(item, f"{where}[{i}]") for i, item in enumerate(node)]
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            (key, arg), = node.items()
            if key == "Ref":
                return self.ref(arg, where)
            if key == "Condition":
                return self.is_true(arg)
            if key.startswith("Fn::"):
                return self.function(key, arg, where)
        out = {}
        for key, value in node.items():
            value = self.eval(value, f"{where}.{key}")
            if value is not NO_VALUE:
                out[key] = value
        return out

    def ref(self, name, where):
        pseudo = {"AWS::Region": REGION, "AWS::AccountId": ACCOUNT, "AWS::Partition": PARTITION,
                  "AWS::StackName": STACK, "AWS::URLSuffix": "amazonaws.com", "AWS::NoValue": NO_VALUE,
                  "AWS::StackId": f"arn:{PARTITION}:cloudformation:{REGION}:{ACCOUNT}:stack/{STACK}/local",
                  "AWS::NotificationARNs": []}
        if name in pseudo:
            return pseudo[name]
        if name in (self.doc.get("Parameters") or {}):
            if name not in self.params:
                fail(f"{where}: parameter {name} has no default; give it with --param {name}=...")
            return self.params[name]
        return self.attribute(name, "Ref", where)

    def function(self, key, arg, where):
        if key == "Fn::If":
            condition, if_true, if_false = arg
            return self.eval(if_true if self.is_true(condition) else if_false, where)
        if key == "Fn::Equals":
            a, b = (self.eval(x, where) for x in arg)
            return str(a) == str(b)
        if key == "Fn::Not":
            return not self.eval(arg[0], where)
        if key == "Fn::And":
            return all(self.eval(x, where) for x in arg)
        if key == "Fn::Or":
            return any(self.eval(x, where) for x in arg)
        if key == "Fn::GetAtt":
            logical_id, attribute = arg.split(".", 1) if isinstance(arg, str) else arg
            return self.attribute(logical_id, self.eval(attribute, where), where)
        if key == "Fn::Sub":
            text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], self.eval(arg[1], where))
            return self.substitute(text, variables, where)
        if key == "Fn::Join":
            delimiter, items = arg
            return delimiter.join(str(i) for i in self.eval(items, where))
        if key == "Fn::Split":
            delimiter, text = arg
            return str(self.eval(text, where)).split(delimiter)
        if key == "Fn::Select":
            index, items = arg
            return self.eval(items, where)[int(self.eval(index, where))]
        if key == "Fn::FindInMap":
            name, top, second = (self.eval(x, where) for x in arg[:3])
            return self.mappings[name][top][second]
        if key == "Fn::Base64":
            return base64.b64encode(str(self.eval(arg, where)).encode()).decode()
        if key == "Fn::GetAZs":
            return [f"{REGION}{zone}" for zone in "abcdef"]
        fail(f"{where}: {key} cannot be evaluated locally; teach scripts/local-stack.py (Stack.function)")

    def substitute(self, text, variables, where):
        def one(match):
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(variables[name])
            if "." in name:
                logical_id, attribute = name.split(".", 1)
                return str(self.attribute(logical_id, attribute, where))
            value = self.ref(name, where)
            return ",".join(value) if isinstance(value, list) else str(value)

        return re.sub(r"\$\{([^}]+)\}", one, text)


# ---------------------------------------------------------------------------------------------------------------
# moto
# ---------------------------------------------------------------------------------------------------------------
def require_loopback(url):
    host = urllib.parse.urlsplit(url).hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        fail(f"--endpoint-url must be a local moto (127.0.0.1 or localhost), not {host or url!r}")


def clients(endpoint):
    import boto3

    def client(service):
        return boto3.client(service, endpoint_url=endpoint, region_name=REGION,
                            aws_access_key_id="testing", aws_secret_access_key="testing")

    return client


def load_create_table():
    """scripts/create-table.py as a module: the one reading of a table's template definition."""
    spec = importlib.util.spec_from_file_location("create_table", ROOT / "scripts" / "create-table.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def provision(stack, client):
    """Creates the template's KMS keys, DynamoDB tables and SQS queues in moto (those missing) and records their names."""
    resources = {k: v for k, v in stack.resources.items() if stack.exists(k)}
    by_type = collections.defaultdict(list)
    for logical_id, resource in resources.items():
        by_type[resource["Type"]].append(logical_id)

    if by_type["AWS::KMS::Key"] or by_type["AWS::KMS::Alias"]:
        kms = client("kms")
        for logical_id in by_type["AWS::KMS::Key"]:
            props = stack.eval(resources[logical_id].get("Properties") or {}, logical_id)
            args = {k: props[k] for k in ("Description", "KeyUsage", "KeySpec") if k in props}
            key = kms.create_key(**args)["KeyMetadata"]
            stack.physical[logical_id] = {"Ref": key["KeyId"], "KeyId": key["KeyId"], "Arn": key["Arn"]}
        for logical_id in by_type["AWS::KMS::Alias"]:
            props = stack.eval(resources[logical_id].get("Properties") or {}, logical_id)
            kms.create_alias(AliasName=props["AliasName"], TargetKeyId=props["TargetKeyId"])
            stack.physical[logical_id] = {"Ref": props["AliasName"]}

    if by_type["AWS::DynamoDB::Table"]:
        create_table = load_create_table()
        dynamodb = client("dynamodb")
        for logical_id in by_type["AWS::DynamoDB::Table"]:
            props = stack.eval(resources[logical_id].get("Properties") or {}, logical_id)
            name = stack.names.get(logical_id) or props.get("TableName") or kebab(logical_id, ["Table"])
            create, ttl = create_table.requests_from_properties(props, logical_id, name)
            try:
                dynamodb.describe_table(TableName=name)
            except dynamodb.exceptions.ResourceNotFoundException:
                dynamodb.create_table(**create)
                if ttl:
                    dynamodb.update_time_to_live(**ttl)
                note(f"created table {name} ({logical_id})")
            stack.physical[logical_id] = {"Ref": name, "Arn": f"arn:{PARTITION}:dynamodb:{REGION}:{ACCOUNT}:table/{name}"}

    queues = by_type["AWS::SQS::Queue"]
    if queues:
        sqs = client("sqs")
        # A queue's name and ARN are known before it exists, so a redrive policy can name its dead-letter queue.
        for logical_id in queues:
            props = resources[logical_id].get("Properties") or {}
            fifo = stack.eval(props.get("FifoQueue", False), logical_id) in (True, "true")
            name = stack.names.get(logical_id) or stack.eval(props.get("QueueName"), logical_id) or (
                kebab(logical_id, ["Queue"]) + (".fifo" if fifo else ""))
            stack.physical[logical_id] = {"QueueName": name, "Arn": f"arn:{PARTITION}:sqs:{REGION}:{ACCOUNT}:{name}"}
        pending = list(queues)
        while pending:
            ready = [q for q in pending if not (set(references(resources[q].get("Properties"))) & set(pending) - {q})]
            if not ready:
                fail(f"the queues {', '.join(pending)} refer to each other in a cycle")
            for logical_id in ready:
                create_queue(stack, sqs, logical_id)
                pending.remove(logical_id)


def references(node):
    """Logical ids a fragment refers to (Ref, GetAtt, Sub)."""
    if isinstance(node, list):
        for item in node:
            yield from references(item)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                yield value
            elif key == "Fn::GetAtt":
                yield value.split(".")[0] if isinstance(value, str) else value[0]
            elif key == "Fn::Sub":
                text = value if isinstance(value, str) else value[0]
                yield from (m.split(".")[0] for m in re.findall(r"\$\{([^!}][^}]*)\}", text))
            yield from references(value)


def create_queue(stack, sqs, logical_id):
    props = stack.eval(stack.resources[logical_id].get("Properties") or {}, logical_id)
    name = stack.physical[logical_id]["QueueName"]
    attributes = {}
    for key, value in props.items():
        if key in ("QueueName", "Tags"):
            continue
        if key in ("RedrivePolicy", "RedriveAllowPolicy"):
            attributes[key] = json.dumps(value)
        elif isinstance(value, bool):
            attributes[key] = "true" if value else "false"
        else:
            attributes[key] = str(value)
    if attributes.get("FifoQueue") == "false":
        del attributes["FifoQueue"]
    try:
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    except sqs.exceptions.QueueDoesNotExist:
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        note(f"created queue {name} ({logical_id})")
    stack.physical[logical_id].update({"Ref": url, "QueueUrl": url})


# ---------------------------------------------------------------------------------------------------------------
# Functions: environment and role
# ---------------------------------------------------------------------------------------------------------------
def functions(stack):
    """(logical id, binary, resource) of every function the template creates."""
    found = []
    for logical_id, resource in stack.resources.items():
        if resource.get("Type") != "AWS::Lambda::Function" or not stack.exists(logical_id):
            continue
        binary = ((resource.get("Metadata") or {}).get("BuildProperties") or {}).get("Binary") or logical_id
        found.append((logical_id, binary, resource))
    if not found:
        fail("the template has no functions")
    return found


def environment(stack, logical_id, resource, caller_vars, secrets, local):
    """The variables the template gives this function, resolved, with the local substitutes."""
    variables = ((resource.get("Properties") or {}).get("Environment") or {}).get("Variables") or {}
    env = {}
    reads_secret = False
    for name, node in variables.items():
        value = stack.eval(node, f"{logical_id}.Environment.{name}")
        if value is NO_VALUE:
            continue
        if isinstance(value, (dict, list)):
            fail(f"{logical_id}.Environment.{name} evaluates to {type(value).__name__}, not a string")
        value = ("true" if value else "false") if isinstance(value, bool) else str(value)
        if SECRET_ARN.match(value):
            reads_secret = True  # locally the secret's values come from the environment instead
            continue
        env[name] = os.environ[name] if name in caller_vars and name in os.environ else value
    if reads_secret:
        env.update({name: os.environ[name] for name in secrets if os.environ.get(name)})
    env.update(local)
    return env


def role_of(stack, logical_id, resource):
    role = (resource.get("Properties") or {}).get("Role")
    if isinstance(role, dict) and "Fn::GetAtt" in role:
        target = role["Fn::GetAtt"]
        role_id = target.split(".")[0] if isinstance(target, str) else target[0]
        if stack.resources.get(role_id, {}).get("Type") == "AWS::IAM::Role":
            return role_id
    fail(f"{logical_id}'s Role is not a role of this template ({role!r}); the local stack cannot give it that role's permissions")


def policy_documents(stack, role_id, warnings):
    """(name, document) of every policy of the role: inline, and managed ones (AWS's from moto's copy)."""
    props = stack.resources[role_id].get("Properties") or {}
    documents = []
    for policy in stack.eval(props.get("Policies") or [], f"{role_id}.Policies"):
        documents.append((policy["PolicyName"], policy["PolicyDocument"]))
    managed = None
    for arn in stack.eval(props.get("ManagedPolicyArns") or [], f"{role_id}.ManagedPolicyArns"):
        local = [k for k, v in stack.resources.items() if v.get("Type") == "AWS::IAM::ManagedPolicy"
                 and stack.exists(k) and stack.attribute(k, "Ref", role_id) == arn]
        if local:
            document = stack.eval(stack.resources[local[0]]["Properties"]["PolicyDocument"], local[0])
            documents.append((local[0], document))
            continue
        if not arn.startswith(f"arn:{PARTITION}:iam::aws:policy/"):
            fail(f"{role_id} has the managed policy {arn}, which is neither AWS's nor in the template")
        if managed is None:
            from moto.iam.aws_managed_policies import aws_managed_policies_data

            managed = json.loads(aws_managed_policies_data)
        name = arn.rsplit("/", 1)[1]
        if name not in managed:
            fail(f"{role_id}: moto has no copy of the AWS managed policy {name}")
        documents.append((f"aws-{name}", managed[name]["Document"]))
    for ignored in ("PermissionsBoundary",):
        if props.get(ignored):
            warnings.append(f"{role_id}: {ignored} is not applied locally (moto does not evaluate it)")
    return [(name, moto_ready(doc, f"{role_id} policy {name}", warnings)) for name, doc in documents]


def moto_ready(document, where, warnings):
    """The document as moto can judge it: a Version (moto insists), no Condition (moto cannot evaluate one)."""
    document = dict(document)
    document.setdefault("Version", "2012-10-17")
    statements = document.get("Statement")
    statements = [statements] if isinstance(statements, dict) else list(statements or [])
    kept = []
    for statement in statements:
        if "NotResource" in statement:
            fail(f"{where}: NotResource is not evaluated by moto; teach scripts/local-stack.py")
        if "Condition" in statement:
            # moto answers an Allow whose condition it cannot check with an explicit deny: keep the Allow without it
            # (broader than AWS), and leave a conditional Deny out (narrower would refuse what AWS allows).
            warnings.append(f"{where}: a {statement.get('Effect')} with a Condition is "
                            f"{'kept without it' if statement.get('Effect') == 'Allow' else 'left out'} locally")
            if statement.get("Effect") != "Allow":
                continue
            statement = {k: v for k, v in statement.items() if k != "Condition"}
        kept.append(statement)
    document["Statement"] = kept
    return document


def count_statements(documents):
    return sum(len(doc["Statement"]) for _, doc in documents)


def write_env(path, env):
    lines = []
    for name, value in env.items():
        if "\n" in value or "\r" in value:
            fail(f"{path.name}: {name}'s value has a line break, which the env file cannot carry")
        lines.append(f"{name}={value}\n")
    path.write_text("".join(lines))
    path.chmod(0o600)


def setup(args):
    require_loopback(args.endpoint_url)
    params = dict(kv.split("=", 1) for kv in args.param)
    names = dict(kv.split("=", 1) for kv in args.name)
    local = dict(kv.split("=", 1) for kv in args.set)
    caller_vars = set(args.caller_vars.split())
    stack = Stack(transformed(args.template), params, names)
    client = clients(args.endpoint_url)
    provision(stack, client)

    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob("*.env"):
        stale.unlink()
    plumbing = {"AWS_ENDPOINT_URL": args.endpoint_url, "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION,
                "AWS_EC2_METADATA_DISABLED": "true"}
    iam = sts = None
    if not args.no_iam:
        iam, sts = client("iam"), client("sts")
    warnings = []
    summary = []
    roles_made = set()
    for logical_id, binary, resource in functions(stack):
        env = environment(stack, logical_id, resource, caller_vars, args.secret, {**local, **plumbing})
        role_id = role_of(stack, logical_id, resource)
        documents = policy_documents(stack, role_id, warnings)
        if iam is None:
            credentials = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
        else:
            if role_id not in roles_made:
                trust = stack.eval((stack.resources[role_id].get("Properties") or {}).get("AssumeRolePolicyDocument"), role_id)
                iam.create_role(RoleName=role_id, AssumeRolePolicyDocument=json.dumps(trust))
                for name, document in documents:
                    iam.put_role_policy(RoleName=role_id, PolicyName=name, PolicyDocument=json.dumps(document))
                roles_made.add(role_id)
            assumed = sts.assume_role(RoleArn=f"arn:{PARTITION}:iam::{ACCOUNT}:role/{role_id}", RoleSessionName=binary,
                                      DurationSeconds=43200)["Credentials"]
            credentials = {"AWS_ACCESS_KEY_ID": assumed["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": assumed["SecretAccessKey"],
                           "AWS_SESSION_TOKEN": assumed["SessionToken"]}
        write_env(out / f"{binary}.env", {**env, **credentials})
        summary.append((binary, role_id, count_statements(documents), len(env)))

    admin = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    if iam is not None:
        everything = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
        iam.create_user(UserName=ADMIN_USER)
        iam.put_user_policy(UserName=ADMIN_USER, PolicyName="everything", PolicyDocument=json.dumps(everything))
        key = iam.create_access_key(UserName=ADMIN_USER)["AccessKey"]
        admin = {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}
    write_env(out / "admin.env", {**admin, "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION})
    (out / "resources.json").write_text(json.dumps(stack.physical, indent=2, default=str))

    for warning in warnings:
        note(f"warning: {warning}")
    width = max(len(b) for b, *_ in summary)
    for binary, role_id, statements, variables in summary:
        note(f"  {binary:<{width}}  {variables:>2} variables  role {role_id} ({statements} statements)")
    if iam is not None:
        request = urllib.request.Request(f"{args.endpoint_url}/moto-api/reset-auth", data=b"0", method="POST",
                                         headers={"content-type": "text/plain"})
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()
        note(f"moto now checks every request against its principal's policies ({len(roles_made)} roles, user {ADMIN_USER})")
    else:
        note("--no-iam: every function has moto's dummy keys, which may do anything")


# ---------------------------------------------------------------------------------------------------------------
# verify: what the running functions really have
# ---------------------------------------------------------------------------------------------------------------
def read_env(path):
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


def verify(args):
    """Checks the environment of every running function process of this stack against its env file (Linux /proc)."""
    files = {p.stem: read_env(p) for p in args.out.glob("*.env") if p.stem != "admin"}
    if not files:
        fail(f"no function environments in {args.out}")
    endpoint = next(iter(files.values())).get("AWS_ENDPOINT_URL")
    caller_vars = set(args.caller_vars.split())
    # A variable the template gives some functions but not this one must not reach it (unless the caller set it).
    everyone = set().union(*files.values())
    target = str(args.target_dir.resolve()) + os.sep
    running = collections.Counter()
    problems = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            exe = os.readlink(proc / "exe").removesuffix(" (deleted)")
            raw = (proc / "environ").read_bytes()
        except OSError:
            continue
        name = os.path.basename(exe)
        if name not in files or not exe.startswith(target):
            continue
        environ = dict(item.split("=", 1) for item in raw.decode(errors="replace").split("\0") if "=" in item)
        if environ.get("AWS_ENDPOINT_URL") != endpoint:
            continue  # the same binary in another stack
        running[name] += 1
        for var, value in files[name].items():
            if environ.get(var) != value:
                problems.append(f"{name} (pid {proc.name}): {var} is {'unset' if var not in environ else 'not its env file value'}")
        for var in sorted(everyone - set(files[name]) - caller_vars):
            if var in environ:
                problems.append(f"{name} (pid {proc.name}): has {var}, which the template gives other functions only")
    for name in sorted(set(files) - set(running)):
        problems.append(f"{name}: no running process of this stack found (the smoke test starts lib.sh's FUNCTIONS: is it there?)")
    if problems:
        print("functions whose environment is not their template's:", *(f"  {p}" for p in problems), sep="\n", file=sys.stderr)
        sys.exit(1)
    note(f"each of the {len(files)} functions runs with exactly its env file ({sum(running.values())} processes checked)")


# ---------------------------------------------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------------------------------------------
def who(principal):
    match = re.match(r"^arn:[^:]+:sts::\d+:assumed-role/([^/]+)/(.+)$", principal)
    if match:
        return f"function {match.group(2)} (role {match.group(1)})"
    match = re.match(r"^arn:[^:]+:iam::\d+:user/(.+)$", principal)
    return f"user {match.group(1)}" if match else principal


def report(args):
    try:
        lines = args.iam_log.read_text().splitlines()
    except FileNotFoundError:
        lines = []
    refusals = collections.Counter()
    for line in lines:
        if line.strip():
            entry = json.loads(line)
            refusals[(who(entry["principal"]), entry["action"], entry["resource"], entry["refusal"])] += 1
    if not refusals:
        return
    print(f"moto refused {sum(refusals.values())} AWS request(s) the functions made:", file=sys.stderr)
    for (principal, action, resource, refusal), count in sorted(refusals.items()):
        print(f"  {principal}: {action} on {resource} ({refusal}, {count}x)", file=sys.stderr)
    print("  A function's role is what template.yaml grants it: add the action (and resource) to that function's "
          "Policies there.", file=sys.stderr)
    sys.exit(1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    s = commands.add_parser("setup", help="environment and roles for every function; then IAM checks on")
    s.add_argument("--endpoint-url", required=True, help="moto's URL, e.g. http://127.0.0.1:5123")
    s.add_argument("--out", type=Path, required=True, help="directory for <function>.env, admin.env, resources.json")
    s.add_argument("--template", type=Path, default=ROOT / "template.yaml")
    s.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="a parameter's local value")
    s.add_argument("--name", action="append", default=[], metavar="LOGICAL_ID=NAME", help="a resource's local name")
    s.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="a variable for every function")
    s.add_argument("--secret", action="append", default=[], metavar="NAME",
                   help="a variable from this environment for the functions that read the secret")
    s.add_argument("--caller-vars", default="", help="names the caller set: their values beat the template's")
    s.add_argument("--no-iam", action="store_true", help="dummy keys that may do anything; no roles, no checks")
    r = commands.add_parser("report", help="print the IAM refusals moto recorded; exit 1 if any")
    r.add_argument("--iam-log", type=Path, required=True)
    v = commands.add_parser("verify", help="check the running functions' environments against their env files")
    v.add_argument("--out", type=Path, required=True, help="the directory setup wrote")
    v.add_argument("--target-dir", type=Path, required=True, help="cargo's target directory (the functions' binaries)")
    v.add_argument("--caller-vars", default="", help="names the caller set (they reach every function)")
    args = parser.parse_args()
    for kv in getattr(args, "param", []) + getattr(args, "name", []) + getattr(args, "set", []):
        if "=" not in kv:
            parser.error(f"{kv!r} is not NAME=VALUE")
    {"setup": setup, "report": report, "verify": verify}[args.command](args)


if __name__ == "__main__":
    main()
