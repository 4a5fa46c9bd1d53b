#!/usr/bin/env python3
"""moto's server with every request served one at a time: `moto-server.py [-H HOST] [-p PORT] [--ssl-cert C --ssl-key K] [--iam-log FILE]`.

moto's own `moto_server` answers requests on parallel threads without a lock, so two conditional writes to one
DynamoDB item racing in from separate clients can both pass their condition (seen here: two winners of eight).
Real DynamoDB applies the writes to one item one after another. Serialising the whole app gives moto that
guarantee, so the races our tests run measure our code, not moto's threading. Connections stay concurrent
(keep-alive, threads); only the handling of a request holds the lock.

IAM (the local stack, scripts/local-stack.py): moto checks every request's signature and its principal's policies
once its INITIAL_NO_AUTH_ACTION_COUNT is used up (set from the environment at start, or later with
`POST /moto-api/reset-auth` and a number: the count of requests still let through). moto 5.2 matches a
statement's Resource only for the services that name the resource of a request (SQS: the queue's ARN, IAM, STS);
for the others it checks the policy against `*`, so a statement scoped to a table's ARN would never match. This
server names the resource for DynamoDB (the table of `TableName`), Secrets Manager (the secret of `SecretId`) and
KMS (the key of `KeyId`, or of the ciphertext), so policies are matched as AWS matches them; authorizes a
DynamoDB transaction as AWS does, by the operations in it (PutItem, DeleteItem, UpdateItem, ConditionCheckItem on
each item's table; moto asks for a TransactWriteItems action no policy names); and answers a refusal
to a JSON-protocol service as AWS does (400 AccessDeniedException naming the action and the resource; moto answers
IAM's XML, which the AWS SDKs cannot parse there). With --iam-log, every refusal (an action a principal's policies
do not allow, an unknown access key, a bad signature) is appended to FILE as one JSON line: {"refusal",
"principal", "action", "resource"}; the local stack reports them by function.
"""
import argparse
import base64
import json
import signal
import sys
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple

_log_lock = threading.Lock()


def _record(path, entry):
    with _log_lock, open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(entry) + "\n")


def _arn(response, service, resource):
    return f"arn:aws:{service}:{response.region}:{response.current_account}:{resource}"


def _dynamodb_resource(self):
    name = (getattr(self, "body", None) or {}).get("TableName")
    if not isinstance(name, str) or not name:
        return "*"
    return name if name.startswith("arn:") else _arn(self, "dynamodb", f"table/{name}")


def _secretsmanager_resource(self):
    from moto.secretsmanager.models import secretsmanager_backends

    try:
        secret_id = self._get_param("SecretId")
        if not secret_id:
            return "*"
        secret = secretsmanager_backends[self.current_account][self.region].secrets.get(secret_id)
        return secret.arn if secret is not None else "*"
    except Exception:  # an unparseable request is refused by the handler itself
        return "*"


def _kms_resource(self):
    from moto.kms.models import kms_backends
    from moto.kms.utils import _deserialize_ciphertext_blob

    try:
        backend = kms_backends[self.current_account][self.region]
        key_id = self._get_param("KeyId")
        if key_id:
            key_id = backend.any_id_to_key_id(key_id)
        else:
            blob = self._get_param("CiphertextBlob")
            if not blob:
                return "*"
            # moto's KMS handler hands it over decoded already; base64 if another one does not.
            key_id = _deserialize_ciphertext_blob(blob if isinstance(blob, bytes) else base64.b64decode(blob)).key_id
        return _arn(self, "kms", f"key/{key_id}") if key_id in backend.keys else "*"
    except Exception:  # an unknown alias or a malformed blob: the handler answers it
        return "*"


def name_resources():
    """Teaches moto the resource (ARN) of DynamoDB, Secrets Manager and KMS requests, for its IAM check."""
    from moto.dynamodb.responses import DynamoHandler
    from moto.kms.responses import KmsResponse
    from moto.secretsmanager.responses import SecretsManagerResponse

    DynamoHandler._determine_resource = _dynamodb_resource
    SecretsManagerResponse._determine_resource = _secretsmanager_resource
    KmsResponse._determine_resource = _kms_resource


def _json_protocol(request):
    """True for a request of a JSON-protocol service (DynamoDB, SQS, KMS, Secrets Manager...): X-Amz-Target names it."""
    return bool(request._headers.get("X-Amz-Target"))


def _json_error(code, message):
    """The error as a JSON-protocol service answers it (moto answers IAM's XML, which an AWS SDK cannot read there)."""
    from moto.core.exceptions import JsonRESTError

    return JsonRESTError(code, message)


_TRANSACT_ACTIONS = {"Put": "dynamodb:PutItem", "Delete": "dynamodb:DeleteItem", "Update": "dynamodb:UpdateItem",
                     "ConditionCheck": "dynamodb:ConditionCheckItem", "Get": "dynamodb:GetItem"}


def _transaction_parts(request):
    """(action, table ARN) of each item of a TransactWriteItems / TransactGetItems request, as AWS authorizes it."""
    try:
        body = json.loads(request._body or b"{}")
        region, account = request._region, request.account_id
        parts = []
        for item in body.get("TransactItems", []):
            for kind, operation in item.items():
                table = operation.get("TableName", "")
                arn = table if table.startswith("arn:") else f"arn:aws:dynamodb:{region}:{account}:table/{table}"
                parts.append((_TRANSACT_ACTIONS.get(kind, f"dynamodb:{kind}"), arn))
        return parts
    except (ValueError, AttributeError, TypeError):
        return None  # unreadable: moto's own check, and the handler's refusal


def police(path):
    """Records every IAM refusal moto makes in `path` (if given), and answers JSON-protocol requests as AWS does."""
    from moto.iam import access_control

    record = (lambda entry: _record(path, entry)) if path else (lambda entry: None)
    base = access_control.IAMRequestBase
    check_action_permitted = base.check_action_permitted

    def checked(self, resource):
        # AWS authorizes a transaction by the operations in it (dynamodb:PutItem, DeleteItem, UpdateItem,
        # ConditionCheckItem on each item's table); moto would ask for a "TransactWriteItems" action no policy names.
        parts = _transaction_parts(self) if self._action in ("dynamodb:TransactWriteItems", "dynamodb:TransactGetItems") else None
        if parts is not None:
            whole = self._action
            try:
                for action, table_arn in parts:
                    self._action = action
                    checked(self, table_arn)
            finally:
                self._action = whole
            return
        try:
            check_action_permitted(self, resource)
        except Exception as refusal:
            principal = self._access_key.arn
            record({"refusal": "AccessDenied", "principal": principal, "action": self._action, "resource": resource})
            if not _json_protocol(self):
                raise
            raise _json_error("AccessDeniedException",
                              f"User: {principal} is not authorized to perform: {self._action} on resource: {resource} "
                              f"because no identity-based policy allows the {self._action} action") from refusal

    base.check_action_permitted = checked

    for cls in (access_control.IAMRequest, access_control.S3IAMRequest):
        invalid_key, bad_signature = cls._raise_invalid_access_key, cls._raise_signature_does_not_match

        def on_invalid_key(self, reason, _original=invalid_key):
            key = self._get_string_between("Credential=", "/", self._headers.get("Authorization", ""))
            record({"refusal": f"InvalidAccessKey ({reason})", "principal": f"access key {key[:8]}…",
                    "action": self._action, "resource": "*"})
            if _json_protocol(self):
                raise _json_error("UnrecognizedClientException", "The security token included in the request is invalid.")
            _original(self, reason)

        def on_bad_signature(self, _original=bad_signature):
            record({"refusal": "SignatureDoesNotMatch", "principal": self._access_key.arn, "action": self._action,
                    "resource": "*"})
            if _json_protocol(self):
                raise _json_error("InvalidSignatureException", "The request signature we calculated does not match "
                                  "the signature you provided.")
            _original(self)

        cls._raise_invalid_access_key = on_invalid_key
        cls._raise_signature_does_not_match = on_bad_signature


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=5000)
    parser.add_argument("--ssl-cert")
    parser.add_argument("--ssl-key")
    parser.add_argument("--iam-log", help="append every IAM refusal to this file (JSON lines)")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))

    name_resources()
    police(args.iam_log)
    app = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()

    def serialised(environ, start_response):
        with lock:
            # Consume the whole answer inside the lock: WSGI apps may do their work lazily.
            return [b"".join(app(environ, start_response))]

    ssl_context = (args.ssl_cert, args.ssl_key) if args.ssl_cert and args.ssl_key else None
    run_simple(args.host, args.port, serialised, threaded=True, use_reloader=False, ssl_context=ssl_context)


if __name__ == "__main__":
    main()
