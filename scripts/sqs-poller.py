#!/usr/bin/env python3
"""Lambda's SQS event source mapping, locally: polls the relay queue on moto and invokes relay-to-agent.

    scripts/sqs-poller.py --endpoint-url http://127.0.0.1:5123 --queue relay --create
        creates the FIFO queue relay.fifo and its dead-letter queue relay-dlq.fifo (as template.yaml's RelayQueue and
        RelayDeadLetterQueue: FIFO, encrypted, redrive after --max-receives) and prints the queue URL
    scripts/sqs-poller.py --endpoint-url http://127.0.0.1:5123 --queue relay \\
            --invoke-url http://127.0.0.1:9000/2015-03-31/functions/relay-to-agent/invocations
        polls: receives a message, invokes the function with the SQS event Lambda would send, deletes what is not in
        the answer's batchItemFailures; a failed invocation leaves the batch for the visibility timeout, as Lambda does
    scripts/sqs-poller.py --endpoint-url ... --queue-url URL --credentials .local/run-local/env/relay-to-agent.env \\
            --invoke-url ...
        the same, for the queue at URL (its dead-letter queue read from its redrive policy), with the function's own
        keys (the local stack: moto checks them against relay-to-agent's role, as Lambda polls with that role)

Local only (dummy credentials unless --credentials, loopback endpoints), with boto3 from moto's Python. Two
differences from AWS, both for moto's sake: short polls (scripts/moto-server.py serves one request at a time, so a 20 s long poll would hold
up the table), and one message per batch (moto 5.2 breaks a FIFO group's order when two of its messages are in
flight and their visibility times out; SQS never does).
"""

import argparse
import ipaddress
import json
import signal
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import boto3


def log(message):
    print(f"[sqs-poller] {message}", flush=True)


def client(endpoint, credentials=None):
    host = urllib.parse.urlparse(endpoint).hostname or ""
    if host != "localhost" and not ipaddress.ip_address(host).is_loopback:
        sys.exit(f"[sqs-poller] error: {endpoint} is not a loopback endpoint; this script only talks to a local moto")
    keys = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    if credentials:
        keys.update(line.split("=", 1) for line in open(credentials, encoding="utf-8").read().splitlines() if "=" in line)
    return boto3.client("sqs", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=keys["AWS_ACCESS_KEY_ID"],
                        aws_secret_access_key=keys["AWS_SECRET_ACCESS_KEY"], aws_session_token=keys.get("AWS_SESSION_TOKEN"))


def create(sqs, name, visibility, max_receives):
    dlq_url = sqs.create_queue(QueueName=f"{name}-dlq.fifo",
                               Attributes={"FifoQueue": "true", "SqsManagedSseEnabled": "true",
                                           "MessageRetentionPeriod": "1209600"})["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receives})
    return sqs.create_queue(QueueName=f"{name}.fifo",
                            Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "false",
                                        "SqsManagedSseEnabled": "true", "VisibilityTimeout": str(visibility),
                                        "MessageRetentionPeriod": "345600", "RedrivePolicy": redrive})["QueueUrl"]


def sqs_event(messages, queue_arn):
    """The event Lambda's event source mapping sends for these messages."""
    return {"Records": [{
        "messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
        "attributes": m.get("Attributes", {}), "messageAttributes": {}, "md5OfBody": m.get("MD5OfBody"),
        "eventSource": "aws:sqs", "eventSourceARN": queue_arn, "awsRegion": "us-east-1",
    } for m in messages]}


def invoke(url, event, timeout):
    """The function's answer (a dict), or None when the invocation failed."""
    request = urllib.request.Request(url, data=json.dumps(event).encode(), method="POST",
                                     headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.load(response)
    except (urllib.error.URLError, TimeoutError, ValueError) as e:
        log(f"invoking relay-to-agent failed ({e}); the batch is retried after the visibility timeout")
        return None


def depth(sqs, url):
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    return int(attributes["Attributes"].get("ApproximateNumberOfMessages", "0"))


def poll(sqs, queue_url, dlq_url, invoke_url, timeout):
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    parked = depth(sqs, dlq_url) if dlq_url else 0
    log(f"polling {queue_url} for relay-to-agent")
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=1, WaitTimeSeconds=0,
                                       AttributeNames=["All"]).get("Messages", [])
        if dlq_url:
            now = depth(sqs, dlq_url)
            if now > parked:
                log(f"{now - parked} event(s) moved to the dead-letter queue {dlq_url} ({now} there)")
            parked = now
        if not messages:
            time.sleep(0.3)
            continue
        answer = invoke(invoke_url, sqs_event(messages, queue_arn), timeout)
        if answer is None:
            continue
        failed = {f.get("itemIdentifier") for f in answer.get("batchItemFailures") or []}
        for m in messages:
            attempt = m.get("Attributes", {}).get("ApproximateReceiveCount", "?")
            if m["MessageId"] in failed:
                log(f"message {m['MessageId']} failed (attempt {attempt}); retried after the visibility timeout")
            else:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])
                log(f"message {m['MessageId']} done (attempt {attempt})")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint-url", required=True)
    parser.add_argument("--queue", default="relay", help="queue name without .fifo (default relay)")
    parser.add_argument("--queue-url", help="poll this queue (its dead-letter queue from its redrive policy) instead "
                                            "of looking --queue up by name, as Lambda's mapping knows its queue")
    parser.add_argument("--create", action="store_true", help="create the queues, print the queue URL, exit")
    parser.add_argument("--visibility", type=int, default=10, help="visibility timeout, seconds (the backoff)")
    parser.add_argument("--max-receives", type=int, default=5, help="attempts before the dead-letter queue")
    parser.add_argument("--invoke-url", help="relay-to-agent's Invoke endpoint (cargo lambda watch)")
    parser.add_argument("--invoke-timeout", type=float, default=60)
    parser.add_argument("--credentials", help="a KEY=VALUE file with the AWS keys to poll with (default: moto's dummy "
                                              "keys); the local stack gives the function's own, as Lambda polls with "
                                              "the function's role")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    sqs = client(args.endpoint_url, args.credentials)
    if args.create:
        print(create(sqs, args.queue, args.visibility, args.max_receives))
        return
    if not args.invoke_url:
        parser.error("--invoke-url is required to poll")
    if args.queue_url:
        queue_url = args.queue_url
        redrive = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["RedrivePolicy"])["Attributes"].get("RedrivePolicy")
        dlq_name = json.loads(redrive)["deadLetterTargetArn"].split(":")[-1] if redrive else None
        dlq_url = f"{queue_url.rsplit('/', 1)[0]}/{dlq_name}" if dlq_name else None
    else:
        queue_url = sqs.get_queue_url(QueueName=f"{args.queue}.fifo")["QueueUrl"]
        dlq_url = sqs.get_queue_url(QueueName=f"{args.queue}-dlq.fifo")["QueueUrl"]
    try:
        poll(sqs, queue_url, dlq_url, args.invoke_url, args.invoke_timeout)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
