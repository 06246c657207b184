#!/usr/bin/python3
"""A site's STOMP client as integrators write it: stomp.py (Debian python3-stomp) against the
grading queues, replies on a temporary queue named in reply-to. Driven by tests/interop/stomp.test.ts:
one JSON command per line on stdin, one JSON answer per line on stdout.

Connection: GRADING_MQ_HOST, GRADING_MQ_PORT, GRADING_MQ_SSL (1 for TLS), GRADING_MQ_CA_FILE (TLS trust,
optional), GRADING_MQ_USERNAME, GRADING_MQ_PASSWORD.
"""
import json
import os
import sys
import threading
import uuid

import stomp

REPLIES = "/temp-queue/grading-replies"


class Inbox(stomp.ConnectionListener):
    def __init__(self):
        self.cond = threading.Condition()
        self.frames = []
        self.errors = []

    def on_message(self, frame):
        with self.cond:
            self.frames.append(frame)
            self.cond.notify_all()

    def on_error(self, frame):
        with self.cond:
            self.errors.append(frame.body)
            self.cond.notify_all()

    def take(self, predicate, timeout):
        """Removes and returns the first frame the predicate accepts, or None after timeout seconds."""
        with self.cond:
            found = []

            def pick():
                for f in self.frames:
                    if predicate(f):
                        found.append(f)
                        self.frames.remove(f)
                        return True
                return bool(self.errors)

            self.cond.wait_for(pick, timeout)
            if self.errors:
                raise RuntimeError("broker ERROR frame: %s" % self.errors[0])
            return found[0] if found else None


def out(data):
    sys.stdout.write(json.dumps(data) + "\n")
    sys.stdout.flush()


def frame_json(frame):
    return {"headers": dict(frame.headers), "body": frame.body}


def main():
    host, port = os.environ["GRADING_MQ_HOST"], int(os.environ["GRADING_MQ_PORT"])
    conn = stomp.Connection([(host, port)], heartbeats=(0, 0))
    if os.environ.get("GRADING_MQ_SSL") == "1":
        conn.set_ssl(for_hosts=[(host, port)], ca_certs=os.environ.get("GRADING_MQ_CA_FILE") or None)
    inbox = Inbox()
    conn.set_listener("inbox", inbox)
    conn.connect(os.environ.get("GRADING_MQ_USERNAME"), os.environ.get("GRADING_MQ_PASSWORD"), wait=True)
    conn.subscribe(destination=REPLIES, id="replies", ack="auto")
    sys.stdout.write("READY\n")
    sys.stdout.flush()
    for line in sys.stdin:
        cmd = json.loads(line)
        try:
            if cmd["cmd"] == "send":
                # stomp.py sends non-persistent messages unless told; grading requests must survive a broker restart.
                headers = {"persistent": "true", "reply-to": REPLIES, "priority": str(cmd.get("priority", 4))}
                if cmd.get("correlationId"):
                    headers["correlation-id"] = cmd["correlationId"]
                conn.send(destination="/queue/grading-requests", body=cmd["body"], headers=headers)
                out({"event": "sent"})
            elif cmd["cmd"] == "await":
                frame = inbox.take(lambda f: f.headers.get("subscription") == "replies" and f.headers.get("correlation-id") == cmd["correlationId"], cmd["timeout"])
                out({"event": "reply", **frame_json(frame)} if frame else {"event": "timeout"})
            elif cmd["cmd"] == "drain":
                # Everything on the destination that the selector picks: consume up to a sentinel sent behind it.
                sentinel = uuid.uuid4().hex
                sub = "drain-" + sentinel
                conn.subscribe(destination=cmd["destination"], id=sub, ack="auto", headers={"selector": cmd["selector"]})
                conn.send(destination=cmd["destination"], body="{}", headers={**cmd["sentinelHeaders"], "interop_sentinel": sentinel, "persistent": "true"})
                got = []
                while True:
                    frame = inbox.take(lambda f: f.headers.get("subscription") == sub, cmd["timeout"])
                    if frame is None:
                        out({"event": "timeout", "messages": got})
                        break
                    if frame.headers.get("interop_sentinel") == sentinel:
                        out({"event": "drained", "messages": got})
                        break
                    got.append(frame_json(frame))
                conn.unsubscribe(id=sub)
            else:
                out({"event": "error", "error": "unknown command %s" % cmd["cmd"]})
        except Exception as error:  # noqa: BLE001 - every failure goes back to the test as an answer
            out({"event": "error", "error": repr(error)})
    conn.disconnect()


if __name__ == "__main__":
    main()
