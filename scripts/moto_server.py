"""moto's server (as .venv/bin/moto_server), recording DynamoDB requests when asked.

With EMULATOR_REQUEST_LOG=<path>, every DynamoDB request is appended to <path> as one JSON
line: the access key id it was signed with, its action (X-Amz-Target), its body, whose items
are cut down to their key attributes (those a CreateTable through this server declared), and
whether the store marked it as a read of its meter (x-emulator-meter-read: made on the
emulator only, to bill writes from items; crates/store/src/table.rs).
The local stack signs each function's requests with the function's logical id
(tools/src/local.rs), so scripts/check-iam.py can hold each request to that function's policy
in infra/template.yaml. Without the variable this is moto_server itself.
"""

import io
import json
import os
import re
import sys
import threading

import moto.server

TARGET_PREFIX = "DynamoDB_20120810."
CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/")


class RequestLog:
    """Appends a line per request; moto's threaded server calls it from many threads."""

    def __init__(self, path):
        self.file = open(path, "a", encoding="utf-8")
        self.lock = threading.Lock()
        self.key_attributes = set()  # every key attribute of the tables created, indexes' too

    def record(self, environ, body):
        action = environ.get("HTTP_X_AMZ_TARGET", "")[len(TARGET_PREFIX) :]
        credential = CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
        try:
            request = json.loads(body or b"{}")
        except ValueError:
            return
        if action == "CreateTable":
            self.key_attributes.update(a["AttributeName"] for a in request.get("AttributeDefinitions", []))
        line = {
            "access_key_id": credential.group(1) if credential else None,
            "action": action,
            "request": self.keys_only(request),
        }
        if environ.get("HTTP_X_EMULATOR_METER_READ"):
            line["meter_read"] = True
        with self.lock:
            self.file.write(json.dumps(line, separators=(",", ":")) + "\n")
            self.file.flush()

    def keys_only(self, value):
        """The request with every `Item` reduced to its key attributes: the log stays small."""
        if isinstance(value, list):
            return [self.keys_only(v) for v in value]
        if not isinstance(value, dict):
            return value
        return {
            name: self.item_keys(v) if name == "Item" and self.key_attributes else self.keys_only(v)
            for name, v in value.items()
        }

    def item_keys(self, item):
        return {name: v for name, v in item.items() if name in self.key_attributes}


def recording(app, log):
    """A WSGI middleware: reads the body of each DynamoDB request, logs it, hands it on."""

    def middleware(environ, start_response):
        if environ.get("HTTP_X_AMZ_TARGET", "").startswith(TARGET_PREFIX):
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length)
            environ["wsgi.input"] = io.BytesIO(body)
            log.record(environ, body)
        return app(environ, start_response)

    return middleware


def main():
    path = os.environ.get("EMULATOR_REQUEST_LOG")
    if path:
        log = RequestLog(path)
        dispatcher = moto.server.DomainDispatcherApplication

        def recording_dispatcher(*args, **kwargs):
            return recording(dispatcher(*args, **kwargs), log)

        moto.server.DomainDispatcherApplication = recording_dispatcher
    moto.server.main(sys.argv[1:])


if __name__ == "__main__":
    main()
