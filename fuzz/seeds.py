#!/usr/bin/env python3
"""Writes the hand-made seeds of each target into fuzz/corpus/<target>/seed-*: realistic inputs
built from fixtures/providers and crates/webhook-auth/tests/fixtures, in each target's input
layout (see the doc comment of fuzz_targets/<target>.rs). Run from the repository root; the
fuzzer and `cargo fuzz cmin` take it from there."""

import base64, calendar, hashlib, hmac, json, os, struct, urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "fuzz" / "corpus"
SEL = [struct.pack("<H", n) for n in (0, 1, 7, 300, 4097, 65535)]


def write(target, name, data):
    d = CORPUS / target
    d.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    (d / f"seed-{name}").write_bytes(data)


def fixture(path):
    return (ROOT / path).read_text()


# --- e164 ------------------------------------------------------------------------------------
numbers = ["+49 30 1234567", " +1 (415) 555-0100 ", "+43.1.234.5678", "030 1234567", "+0301234567",
           "++49301234567", "+1234", "+123456789012345", "+1234567890123456", "+123", "", "  ",
           "+49 30 CALL-ME", "whatsapp:+4930901820", "\u00a0+49\t30 901820", "+\u0664\u0669301234",
           "\uff0b\uff14\uff19301234567", "+4915112345678", "+4930901820", "(+49) 030-901820", "+1-800-FLOWERS",
           "+44 20 7946 0958", "+8613800138000", "VERIFY", "12345", "+\u00a049 30", "+49\n30"]
for i, n in enumerate(numbers):
    write("e164", f"{i:02}", n)

# --- opening_hours ---------------------------------------------------------------------------
def ts(text):
    return calendar.timegm(__import__("time").strptime(text, "%Y-%m-%dT%H:%M:%SZ"))

def hours_input(at, zone, hours, probe=1234):
    return struct.pack("<qH", ts(at), probe) + zone.encode() + b"\n" + json.dumps(hours).encode()

def every_day(s, e):
    return {d: [{"start": s, "end": e}] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}

schedules = [
    {},
    {"days": {}},
    {"days": {"mon": [{"start": "09:00", "end": "12:00"}, {"start": "13:00", "end": "17:00"}]}},
    {"days": {"fri": [{"start": "22:00", "end": "02:00"}]}},
    {"days": {"sun": [{"start": "20:00", "end": "04:00"}]}},
    {"days": {"tue": [{"start": "00:00", "end": "00:00"}]}},
    {"days": {"mon": [{"start": "18:00", "end": "24:00"}]}},
    {"days": every_day("02:00", "03:00")},
    {"days": every_day("02:30", "02:45")},
    {"days": every_day("00:00", "00:00")},
    {"days": every_day("22:00", "02:00"),
     "exceptions": [{"date": "2026-12-24", "intervals": [{"start": "09:00", "end": "12:00"}]},
                    {"date": "2026-12-25", "intervals": []},
                    {"date": "2026-12-31", "intervals": [{"start": "20:00", "end": "24:00"}]}]},
    {"days": {"wed": [{"start": "10:00", "end": "11:00"}]},
     "exceptions": [{"date": "2026-03-29", "intervals": [{"start": "01:30", "end": "03:30"}]},
                    {"date": "2026-10-25", "intervals": [{"start": "02:00", "end": "02:30"}]}]},
    {"days": {"mon": [{"start": "09:00", "end": "17:00"}], "funday": []}},
    {"days": {"mon": [{"start": "24:00", "end": "09:00"}, {"start": "9:00", "end": "25:00"}]}},
    {"exceptions": [{"date": "2026-02-30", "intervals": []}, {"date": "2026-12-24"}, {"date": "2026-12-24"}]},
    {"exceptions": [{"date": "9999-12-31", "intervals": [{"start": "23:00", "end": "01:00"}]},
                    {"date": "0001-01-01", "intervals": []}]},
]
instants = [("2026-03-29T00:59:59Z", "Europe/Berlin"), ("2026-10-25T01:30:00Z", "Europe/Berlin"),
            ("2026-03-08T06:30:00Z", "America/New_York"), ("2026-11-01T05:30:00Z", "America/New_York"),
            ("2026-04-05T14:45:00Z", "Australia/Lord_Howe"), ("2011-12-29T10:00:00Z", "Pacific/Apia"),
            ("2026-12-24T20:00:00Z", "Asia/Kathmandu"), ("2026-06-01T12:00:00Z", "UTC"),
            ("1970-01-01T00:00:00Z", "Pacific/Kiritimati"), ("2026-12-31T23:30:00Z", "America/St_Johns")]
for i, hours in enumerate(schedules):
    at, zone = instants[i % len(instants)]
    write("opening_hours", f"{i:02}", hours_input(at, zone, hours, probe=i * 977))
for j, (at, zone) in enumerate(instants):
    write("opening_hours", f"dst-{j:02}", hours_input(at, zone, schedules[7 + j % 5]))

# --- Twilio ----------------------------------------------------------------------------------
token = "f1e2d3c4b5a69788796a5b4c3d2e1f00"
urls = ["https://hooks.example.com/twilio/messages", "https://hooks.example.com/twilio/messages/status",
        "https://hooks.example.com:443/twilio/voice/status?tenant=1", "http://127.0.0.1:8081/twilio/messages",
        "https://[2001:db8::1]/twilio/messages?a=%2B1&b=2#frag", "https://user:pw@hooks.example.com/p"]
twilio_hooks = sorted((ROOT / "fixtures/providers/twilio/webhooks").glob("*.json"))
for i, path in enumerate(twilio_hooks):
    params = json.loads(path.read_text())
    body = urllib.parse.urlencode(list(params.items()))
    url = urls[i % len(urls)]
    write("twilio_form", path.stem, SEL[i % len(SEL)] + f"{token}\n{url}\n{body}".encode())
    sig = base64.b64encode(hmac.new(token.encode(), url.encode(), hashlib.sha1).digest()).decode()
    write("twilio_json", path.stem, SEL[i % len(SEL)] + f"{token}\n{url}\n{sig}\n".encode() + path.read_bytes())
write("twilio_form", "repeats", SEL[2] + f"{token}\n{urls[0]}\nMediaUrl0=a&MediaUrl0=a&MediaUrl0=b&NumMedia=3&Body=%C3%A4+%F0%9F%98%80".encode())
write("twilio_form", "empty-token", SEL[0] + f"\n{urls[0]}\nMessageSid=SM1&From=%2B1&To=%2B2".encode())
write("twilio_json", "has-hash", SEL[1] + f"{token}\n{urls[0]}?bodySHA256=00\nabc\n{{}}".encode())

# --- Meta ------------------------------------------------------------------------------------
app_secret = "0123456789abcdef0123456789abcdef"
for i, name in enumerate(["webhook_text_message", "webhook_status_read"]):
    body = fixture(f"fixtures/providers/meta/{name}.json").encode()
    header = "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    write("meta", name, SEL[i] + f"{app_secret}\n{header}\n".encode() + body)
    write("meta", name + "-challenge", SEL[i + 2] + f"{app_secret}\nsubscribe&{app_secret}&1158201444\n".encode() + body)
write("meta", "other-object", SEL[3] + b"s\nsha256=00\n" + json.dumps({"object": "page", "entry": []}).encode())
write("meta", "batched", SEL[4] + b"s\nsha1=00\n" + json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [
    {"field": "messages", "value": {"metadata": {"phone_number_id": "106"},
     "messages": [{"id": "wamid.A", "from": "4917", "type": "text"}, {"id": "wamid.B", "from": "4917"}],
     "statuses": [{"id": "wamid.C", "status": "read"}]}},
    {"field": "account_update", "value": {}}]}]}).encode())

# --- Vapi ------------------------------------------------------------------------------------
server_secret = "vapi-s3cret"
heads = [(server_secret, ""), ("", f"Bearer {server_secret}"), ("wrong", "bearer  " + server_secret), ("", "Basic abc")]
for i, path in enumerate(sorted((ROOT / "fixtures/providers/vapi/server").glob("*.json"))):
    h, a = heads[i % len(heads)]
    write("vapi", path.stem, SEL[i] + f"{server_secret}\n{h}\n{a}\n".encode() + path.read_bytes())
write("vapi", "tool-call-string", SEL[0] + f"{server_secret}\n{server_secret}\n\n".encode() + json.dumps({"message": {
    "type": "transfer-destination-request", "timestamp": 1793000000123, "call": {"id": "c-1"},
    "toolCall": {"function": {"arguments": "{\"name\": \"Herr M\u00fcller\"}"}},
    "durationSeconds": 1e308}}).encode())

# --- SNS -------------------------------------------------------------------------------------
sns_dir = ROOT / "crates/webhook-auth/tests/fixtures"
for path in sorted(sns_dir.glob("*.json")):
    text = path.read_text()
    write("sns", path.stem, text)
    obj = json.loads(text)
    write("sns", path.stem + "-compact", json.dumps(obj, separators=(",", ":"), ensure_ascii=False))
    write("sns", path.stem + "-reversed", json.dumps(dict(reversed(list(obj.items())))))
    lambda_style = {("SigningCertUrl" if k == "SigningCertURL" else "SubscribeUrl" if k == "SubscribeURL" else k): v for k, v in obj.items()}
    write("sns", path.stem + "-lambda", json.dumps(lambda_style))
