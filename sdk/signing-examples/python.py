"""Signs and sends a notification webhook with Python's hmac, in both schemes."""
import base64, hashlib, hmac, json, os, secrets, time, urllib.request

base = os.environ.get("HOOKBELL_URL", "http://localhost:5000")
secret = os.environ["HOOKBELL_WEBHOOK_SECRET"]
body = json.dumps({
    "tenantId": os.environ["HOOKBELL_TENANT_ID"],
    "title": "Signed with Python",
    "message": "Hello from hmac",
    "type": "info",
}).encode()


def post(headers):
    request = urllib.request.Request(f"{base}/api/webhooks/notifications", data=body, method="POST",
                                     headers={"Content-Type": "application/json", **headers})
    with urllib.request.urlopen(request) as response:  # raises on 4xx and 5xx
        print(response.status, response.read().decode())


# 1. The seed's scheme: hex HMAC-SHA256 of the body, keyed with the secret as text.
post({"X-Webhook-Signature": hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()})

# 2. Standard Webhooks: base64 HMAC-SHA256 of f"{id}.{timestamp}.{body}", keyed with the bytes after whsec_.
msg_id = f"msg_{secrets.token_hex(12)}"
timestamp = str(int(time.time()))
key = base64.b64decode(secret.removeprefix("whsec_"))
digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
post({"webhook-id": msg_id, "webhook-timestamp": timestamp,
      "webhook-signature": "v1," + base64.b64encode(digest).decode()})
