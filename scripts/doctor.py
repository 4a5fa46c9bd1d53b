#!/usr/bin/env python3
"""The doctor: what is wrong with a deployment (or the local stack), in plain words, and what to do. It only reads.

    scripts/doctor.sh --local                 # the stack scripts/run-local.sh runs (its ports, moto, keys)
    scripts/doctor.sh --stack NAME [--region R]  # a deployed stack, from its CloudFormation outputs (AWS credentials)

What it checks:
  - through connect-workspace's read-only examination (`GET ?check=true`, the checks connect-workspace's setup uses,
    for every workspace in hub mode): the token works and has the permissions, the data attributes exist (not
    archived, the right type), the AI's admin and the routed teams exist, the webhook URL answers Intercom's HEAD
    check and a ping signed with the workspace's client secret, the agent URL answers a signed test event; the
    Intercom API version;
  - the relay queue is not backing up (events waiting, and deployed the oldest one's age) and the dead-letter
    queue is empty.

Prints "ok: …" for each check that holds and one "PROBLEM: …  → what to do" line per problem; exit 0 when all is
well, 1 when there is a problem, 2 when the doctor itself could not run (the message says why).
Environment wins over what --local reads: DOCTOR_CONNECT_URL, HUB_ADMIN_KEY, DOCTOR_AWS_ENDPOINT_URL,
RELAY_QUEUE_URL, RELAY_DLQ_URL, DOCTOR_MAX_WAITING (events waiting before it is a problem, default 100),
DOCTOR_MAX_AGE_SECONDS (deployed: the oldest event's age, default 600).
"""

import argparse
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCAL_STATE = ROOT / ".local" / "run-local" / "doctor.json"
PROBLEMS = []


def ok(message):
    print(f"ok: {message}", flush=True)


def problem(message, fix):
    PROBLEMS.append(message)
    print(f"PROBLEM: {message}  → {fix}", flush=True)


def cannot_run(message):
    print(f"doctor: cannot run: {message}", file=sys.stderr, flush=True)
    sys.exit(2)


def local_target():
    """Where the local stack is, as scripts/run-local.sh recorded it (the environment wins)."""
    if not LOCAL_STATE.is_file():
        cannot_run(f"{LOCAL_STATE.relative_to(ROOT)} is missing: start the local stack first (scripts/run-local.sh)")
    state = json.loads(LOCAL_STATE.read_text())
    key_file = state.get("hubAdminKeyFile")
    admin_key = os.environ.get("HUB_ADMIN_KEY") or (Path(key_file).read_text().strip() if key_file and Path(key_file).is_file() else None)
    return {
        "connect_url": os.environ.get("DOCTOR_CONNECT_URL", state["connectUrl"]),
        "admin_key": admin_key if state.get("agentAuth") == "API_KEY" or os.environ.get("HUB_ADMIN_KEY") else None,
        "aws_endpoint": os.environ.get("DOCTOR_AWS_ENDPOINT_URL", state.get("awsEndpointUrl")),
        "aws_credentials": state.get("awsCredentialsFile"),
        "relay_queue": os.environ.get("RELAY_QUEUE_URL", state.get("relayQueueUrl")),
        "dlq": os.environ.get("RELAY_DLQ_URL", state.get("relayDeadLetterQueueUrl")),
        "sign": False,
    }


def stack_target(stack, region):
    """A deployed stack's outputs (aws CLI, the caller's credentials)."""
    try:
        raw = subprocess.run(["aws", "cloudformation", "describe-stacks", "--stack-name", stack, "--output", "json"]
                             + (["--region", region] if region else []), check=True, capture_output=True, text=True).stdout
    except FileNotFoundError:
        cannot_run("the aws CLI is not installed (pip install awscli), or use --local")
    except subprocess.CalledProcessError as e:
        cannot_run(f"could not read stack {stack}: {e.stderr.strip()[:300]}")
    outputs = {o["OutputKey"]: o["OutputValue"] for o in json.loads(raw)["Stacks"][0].get("Outputs", [])}
    return {
        "connect_url": os.environ.get("DOCTOR_CONNECT_URL", outputs.get("ConnectWorkspaceUrl")),
        "admin_key": os.environ.get("HUB_ADMIN_KEY"),
        "aws_endpoint": os.environ.get("DOCTOR_AWS_ENDPOINT_URL"),
        "aws_credentials": None,
        "relay_queue": os.environ.get("RELAY_QUEUE_URL", outputs.get("RelayQueueUrl")),
        "dlq": os.environ.get("RELAY_DLQ_URL", outputs.get("RelayDeadLetterQueueUrl")),
        "sign": not os.environ.get("HUB_ADMIN_KEY"),
        "region": region,
    }


def examine(target):
    """connect-workspace's read-only examination of every workspace served."""
    url = target["connect_url"].rstrip("/") + "/?check=true"
    request = urllib.request.Request(url, method="GET")
    if target.get("admin_key"):
        request.add_header("authorization", f"Bearer {target['admin_key']}")
    elif target.get("sign"):
        sign_sigv4(request, target.get("region"))
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            report = json.loads(response.read())
    except urllib.error.HTTPError as e:
        body = e.read().decode(errors="replace")[:400]
        cannot_run(f"connect-workspace answered HTTP {e.code} to the check: {body}")
    except (urllib.error.URLError, TimeoutError) as e:
        cannot_run(f"connect-workspace did not answer at {target['connect_url']} ({e})")
    workspaces = report.get("workspaces", [])
    if not workspaces:
        problem("no workspace is served (hub mode with nothing connected)", "connect one: POST to connect-workspace")
    for health in workspaces:
        who = f"workspace {health.get('workspaceId') or '?'}" + (f" ({health['name']})" if health.get("name") else "")
        ok(f"{who}: Intercom API version {health.get('apiVersion')}")
        for p in health.get("problems", []):
            problem(f"{who}: {p['message']}", p["fix"])
        failed = {p["check"] for p in health.get("problems", [])}
        for check in health.get("checked", []):
            if check not in failed:
                ok(f"{who}: {check.replace('_', ' ')}")


def sign_sigv4(request, region):
    """Signs a function URL request as IAM wants it (service lambda), with the caller's AWS credentials."""
    try:
        import botocore.session
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
    except ImportError:
        cannot_run("botocore is needed to sign the request (pip install boto3), or set HUB_ADMIN_KEY")
    session = botocore.session.get_session()
    credentials = session.get_credentials()
    if credentials is None:
        cannot_run("no AWS credentials to sign connect-workspace's request with")
    aws_request = AWSRequest(method=request.get_method(), url=request.full_url)
    SigV4Auth(credentials, "lambda", region or session.get_config_variable("region") or "us-east-1").add_auth(aws_request)
    for name, value in aws_request.headers.items():
        request.add_header(name, value)


def queues(target):
    """The relay queue is not backing up; the dead-letter queue is empty."""
    if not target.get("relay_queue"):
        return problem("the relay queue's URL is unknown", "pass the stack (--stack) or set RELAY_QUEUE_URL")
    try:
        import boto3
    except ImportError:
        cannot_run("boto3 is needed to read the queues (pip install boto3)")
    kwargs = {"region_name": target.get("region") or os.environ.get("AWS_REGION") or "us-east-1"}
    if target.get("aws_endpoint"):
        kwargs["endpoint_url"] = target["aws_endpoint"]
    if target.get("aws_credentials"):
        creds = dict(line.split("=", 1) for line in Path(target["aws_credentials"]).read_text().splitlines() if "=" in line)
        kwargs["aws_access_key_id"] = creds.get("AWS_ACCESS_KEY_ID", "").strip('"')
        kwargs["aws_secret_access_key"] = creds.get("AWS_SECRET_ACCESS_KEY", "").strip('"')
        if creds.get("AWS_SESSION_TOKEN"):
            kwargs["aws_session_token"] = creds["AWS_SESSION_TOKEN"].strip('"')
    sqs = boto3.client("sqs", **kwargs)
    max_waiting = int(os.environ.get("DOCTOR_MAX_WAITING", "100"))
    attributes = sqs.get_queue_attributes(QueueUrl=target["relay_queue"], AttributeNames=["All"])["Attributes"]
    waiting = int(attributes.get("ApproximateNumberOfMessages", 0))
    if waiting > max_waiting:
        problem(f"{waiting} events wait on the relay queue for the agent", "check that the agent answers (the agent check above) and relay-to-agent's log")
    else:
        ok(f"relay queue: {waiting} event(s) waiting")
    if target.get("dlq"):
        dlq = int(sqs.get_queue_attributes(QueueUrl=target["dlq"], AttributeNames=["ApproximateNumberOfMessages"])["Attributes"].get("ApproximateNumberOfMessages", 0))
        if dlq:
            problem(f"{dlq} event(s) in the dead-letter queue: the agent never accepted them",
                    "fix the agent, then redrive: aws sqs start-message-move-task --source-arn <RelayDeadLetterQueueArn>")
        else:
            ok("dead-letter queue: empty")
    if not target.get("aws_endpoint"):
        oldest_age(target, kwargs)


def oldest_age(target, kwargs):
    """Deployed: the relay queue's oldest event's age (CloudWatch; SQS does not report it as an attribute)."""
    import datetime

    import boto3

    name = target["relay_queue"].rstrip("/").rsplit("/", 1)[-1]
    now = datetime.datetime.now(datetime.timezone.utc)
    stats = boto3.client("cloudwatch", **kwargs).get_metric_statistics(
        Namespace="AWS/SQS", MetricName="ApproximateAgeOfOldestMessage", Dimensions=[{"Name": "QueueName", "Value": name}],
        StartTime=now - datetime.timedelta(minutes=10), EndTime=now, Period=300, Statistics=["Maximum"])
    ages = [p["Maximum"] for p in stats.get("Datapoints", [])]
    limit = int(os.environ.get("DOCTOR_MAX_AGE_SECONDS", "600"))
    if ages and max(ages) > limit:
        problem(f"the relay queue's oldest event has waited {int(max(ages))} s", "the agent is down or refusing events: check it, then relay-to-agent's log")
    else:
        ok("relay queue: no event waits long")


def main():
    parser = argparse.ArgumentParser(description="Says what is wrong with a deployment, and what to do. Reads only.")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--local", action="store_true", help="the stack scripts/run-local.sh runs")
    where.add_argument("--stack", help="a deployed stack's name")
    parser.add_argument("--region")
    args = parser.parse_args()
    target = local_target() if args.local else stack_target(args.stack, args.region)
    if not target.get("connect_url"):
        cannot_run("connect-workspace's URL is unknown (the ConnectWorkspaceUrl output, or DOCTOR_CONNECT_URL)")
    examine(target)
    queues(target)
    if PROBLEMS:
        print(f"doctor: {len(PROBLEMS)} problem(s)", flush=True)
        return 1
    print("doctor: all is well", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
