"""LiveKit's server API (Twirp RoomService) on loopback for the interoperability run: every request's bearer token
is checked with the official SDK's `TokenVerifier`, so Talktime's admin tokens are proven to be what
livekit-server accepts, with the grant each method needs. `GET /_fake/state` shows the rooms to the tests.

Usage: python fake_livekit.py PORT API_KEY API_SECRET"""
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from livekit.api import TokenVerifier

PREFIX = "/twirp/livekit.RoomService/"


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.rooms = {}
        self.deleted = []
        self.refused = []


def make_handler(verifier, state):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *arguments):
            pass

        def answer(self, status, body):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def refuse(self, status, code, message):
            with state.lock:
                state.refused.append({"path": self.path, "status": status, "code": code})
            self.answer(status, {"code": code, "msg": message})

        def do_GET(self):
            if self.path != "/_fake/state":
                return self.answer(404, {"code": "bad_route", "msg": "no such path"})
            with state.lock:
                self.answer(200, {"rooms": state.rooms, "deleted": state.deleted, "refused": state.refused})

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if not self.path.startswith(PREFIX):
                return self.refuse(404, "bad_route", "no such path")
            method = self.path[len(PREFIX):]
            authorization = self.headers.get("Authorization", "")
            if not authorization.startswith("Bearer "):
                return self.refuse(401, "unauthenticated", "authorization required")
            try:
                claims = verifier.verify(authorization[len("Bearer "):])
            except Exception as error:  # what livekit-server does with any invalid token
                return self.refuse(401, "unauthenticated", f"invalid token: {type(error).__name__}")
            if not self.headers.get("Content-Type", "").startswith("application/json"):
                return self.refuse(415, "malformed", "JSON only")
            request = json.loads(body or b"{}")
            video = claims.video
            if method in ("CreateRoom", "DeleteRoom"):
                if not video.room_create:
                    return self.refuse(403, "permission_denied", "roomCreate required")
            elif method in ("ListParticipants", "RemoveParticipant"):
                if not video.room_admin or video.room != request.get("room"):
                    return self.refuse(403, "permission_denied", "roomAdmin for this room required")
            else:
                return self.refuse(404, "bad_route", "unknown method")
            with state.lock:
                if method == "CreateRoom":
                    name = request.get("name") or ""
                    if not name:
                        return self.refuse(400, "invalid_argument", "name required")
                    room = state.rooms.setdefault(name, {
                        "name": name, "max_participants": request.get("max_participants", 0),
                        "empty_timeout": request.get("empty_timeout", 300), "metadata": request.get("metadata", ""),
                        "participants": [],
                    })
                    return self.answer(200, {"sid": f"RM_{name}", **{k: v for k, v in room.items() if k != "participants"}})
                room = state.rooms.get(request.get("room"))
                if room is None:
                    return self.answer(404, {"code": "not_found", "msg": "requested room does not exist"})
                if method == "DeleteRoom":
                    del state.rooms[request["room"]]
                    state.deleted.append(request["room"])
                    return self.answer(200, {})
                if method == "ListParticipants":
                    return self.answer(200, {"participants": [{"identity": p} for p in room["participants"]]})
                if request.get("identity") not in room["participants"]:
                    return self.answer(404, {"code": "not_found", "msg": "participant does not exist"})
                room["participants"].remove(request["identity"])
                return self.answer(200, {})

    return Handler


def main():
    port, key, secret = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    server = ThreadingHTTPServer(("127.0.0.1", port), make_handler(TokenVerifier(key, secret), State()))
    server.serve_forever()


if __name__ == "__main__":
    main()
