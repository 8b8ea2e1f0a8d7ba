#!/usr/bin/env bash
# Signs and sends a notification webhook with curl and openssl, in both schemes.
set -euo pipefail
url="${HOOKBELL_URL:-http://localhost:5000}/api/webhooks/notifications"
body=$(printf '{"tenantId":"%s","title":"Signed with openssl","message":"Hello from curl","type":"info"}' \
  "$HOOKBELL_TENANT_ID")

# 1. The seed's scheme: hex HMAC-SHA256 of the body, keyed with the secret as text.
sig=$(printf '%s' "$body" | openssl dgst -sha256 -hmac "$HOOKBELL_WEBHOOK_SECRET" -r | cut -d' ' -f1)
curl --fail-with-body -sS "$url" -H 'Content-Type: application/json' \
  -H "X-Webhook-Signature: $sig" -d "$body"

# 2. Standard Webhooks: base64 HMAC-SHA256 of "id.timestamp.body", keyed with the bytes after whsec_.
id="msg_$(openssl rand -hex 12)"
ts=$(date +%s)
key_hex=$(printf '%s' "${HOOKBELL_WEBHOOK_SECRET#whsec_}" | base64 -d | od -An -tx1 | tr -d ' \n')
sig=$(printf '%s.%s.%s' "$id" "$ts" "$body" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$key_hex" -binary | base64)
curl --fail-with-body -sS "$url" -H 'Content-Type: application/json' \
  -H "webhook-id: $id" -H "webhook-timestamp: $ts" -H "webhook-signature: v1,$sig" -d "$body"
