"""Creates one resource of each kind through the API and prints schemathesis configuration that
offers their ids to the generator, so operations on `/{id}` reach their logic and not only 404.

Usage: schemathesis_fixtures.py BASE_URL  (owner key in SB_API_KEY)
"""

import json
import os
import sys
import urllib.error
import urllib.request

BASE = sys.argv[1]
KEY = os.environ["SB_API_KEY"]


def call(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(BASE + path, data=data, method=method)
    req.add_header("Authorization", f"Bearer {KEY}")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req) as resp:
            return json.load(resp)
    except urllib.error.HTTPError as e:
        sys.exit(f"fixture {method} {path} failed: {e.code} {e.read().decode()}")


agents = [a["id"] for a in call("GET", "/v1/agents")["data"]]
agent = agents[0]
target = call("POST", f"/v1/agents/{agent}/forwarding-targets", {"name": "Anna Schmidt", "phone_number": "+4930901820"})
line = call(
    "POST",
    f"/v1/agents/{agent}/phone-lines",
    {"vapi_phone_number_id": "3f1c9a52-7d2e-4b8a-9c61-0e5f2d4b7a10", "phone_number": "+4930901821", "language": "de"},
)
number = call("POST", "/v1/numbers", {"agent_id": agent, "area_code": "30"})["number"]
call("PATCH", f"/v1/agents/{agent}/channels", {"whatsapp_enabled": True})
wac = call(
    "POST",
    "/v1/whatsapp/connections",
    {"display_name": "Support", "agent_id": agent, "provider": "twilio", "sender": "whatsapp:+4930901822"},
)
conversation = call("POST", "/v1/conversations", {"channel": "sms", "contact": "+4915112345678", "number_id": number["id"]})
opt_out = call("POST", "/v1/opt-outs", {"channel": "sms", "contact": "+4915187654321"})

workspace = call("GET", "/v1/workspace")["id"]
ids = agents + [workspace, target["id"], line["id"], number["id"], wac["id"], conversation["id"], opt_out["id"]]
ids += [n["id"] for n in call("GET", "/v1/notifications")["data"][:3]]
ids += [d["id"] for d in call("GET", "/v1/webhook-deliveries")["data"][:3]]


def values(xs):
    return json.dumps(sorted(set(xs)))


# Real ids half of the time, generated values the other half.
print(f"""
[dictionaries.ids]
values = {values(ids)}

[dictionaries.agents]
values = {values(agents)}

[dictionaries.targets]
values = {values([target["id"]])}

[dictionaries.lines]
values = {values([line["id"]])}

[dictionaries.numbers]
values = {values([number["id"]])}

[dictionaries.confirm]
values = {values([number["phone_number"]])}

[dictionaries.connections]
values = {values([wac["id"]])}

[parameters]
"path.id" = {{ dictionary = "ids", probability = 0.5 }}
"path.target_id" = {{ dictionary = "targets", probability = 0.5 }}
"path.line_id" = {{ dictionary = "lines", probability = 0.5 }}
"query.confirm" = {{ dictionary = "confirm", probability = 0.5 }}
"query.agent_id" = {{ dictionary = "agents", probability = 0.5 }}
"body.agent_id" = {{ dictionary = "agents", probability = 0.5 }}
"body.number_id" = {{ dictionary = "numbers", probability = 0.5 }}
"body.whatsapp_connection_id" = {{ dictionary = "connections", probability = 0.5 }}
""")
