// Signs and sends a notification webhook with Node.js's crypto, in both schemes.
import crypto from 'node:crypto';

const base = process.env.HOOKBELL_URL ?? 'http://localhost:5000';
const secret = process.env.HOOKBELL_WEBHOOK_SECRET;
const body = JSON.stringify({
  tenantId: process.env.HOOKBELL_TENANT_ID,
  title: 'Signed with Node.js',
  message: 'Hello from crypto.createHmac',
  type: 'info',
});

async function post(headers) {
  const res = await fetch(`${base}/api/webhooks/notifications`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body,
  });
  console.log(res.status, await res.text());
  if (!res.ok) process.exit(1);
}

// 1. The seed's scheme: hex HMAC-SHA256 of the body, keyed with the secret as text.
await post({ 'X-Webhook-Signature': crypto.createHmac('sha256', secret).update(body).digest('hex') });

// 2. Standard Webhooks: base64 HMAC-SHA256 of `${id}.${timestamp}.${body}`, keyed with the bytes after whsec_.
const id = `msg_${crypto.randomBytes(12).toString('hex')}`;
const timestamp = Math.floor(Date.now() / 1000).toString();
const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
const signature = crypto.createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
await post({ 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': `v1,${signature}` });
