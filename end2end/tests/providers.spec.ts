import { test, expect } from '@playwright/test';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Stripe from 'stripe';
import '@shopify/shopify-api/adapters/web-api';
import { shopifyApi, ApiVersion } from '@shopify/shopify-api';
import { postSigned, serverForThisFile } from './server';

// Signatures made and checked by the providers' own libraries, not only by
// ours: Stripe's official `stripe` package signs deliveries the running
// server must take (and a tampered copy it must refuse), and Shopify's
// official `@shopify/shopify-api` validates the same requests the server
// judges, with the same verdict on each.

const server = serverForThisFile();
const fixtures = path.resolve(__dirname, '..', '..', 'server', 'src', 'providers', 'fixtures');
const fixture = (name: string) => JSON.parse(readFileSync(path.join(fixtures, `${name}.json`), 'utf8'));

const STRIPE_SECRET = 'whsec_e2e_0123456789abcdefghij';
const SHOPIFY_SECRET = 'shpss_e2e_0123456789abcdefghij';
const SHOP = 'acme.myshopify.com';

/** Connects `provider` for the demo tenant (its owner, in development). */
async function connect(provider: string, body: object) {
  const res = await fetch(`${server.url}/api/webhooks/providers/${provider}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.status, await res.clone().text()).toBe(200);
}

async function post(route: string, headers: Record<string, string>, body: string) {
  const res = await fetch(`${server.url}${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  return { status: res.status, json: await res.json() };
}

test('an admin connects Stripe on Settings → Integrations, and a payment Stripe signs turns the order paid live', async ({ page }) => {
  await page.goto(`${server.url}/settings/integrations`);
  const card = page.getByTestId('provider-stripe');
  await expect(card).toHaveAttribute('data-connected', 'false');
  await expect(page.getByTestId('stripe-url')).toHaveText(`${server.url}/api/webhooks/stripe/${server.tenantId}`);
  await expect(card).toContainText('payment_intent.succeeded');
  await page.getByTestId('stripe-secret').fill('not a stripe secret');
  await page.getByTestId('save-stripe').click();
  await expect(page.getByTestId('stripe-error')).toContainText('signingSecret');
  await page.getByTestId('stripe-secret').fill(STRIPE_SECRET);
  await page.getByTestId('save-stripe').click();
  await expect(page.getByTestId('stripe-status')).toContainText('Connected · secret …ghij');
  await expect(card).toHaveAttribute('data-connected', 'true');
  await expect(page.getByTestId('stripe-secret')).toHaveValue('');

  // A pending order of the tenant's own, on the dashboard.
  const placed = await postSigned(server, '/api/webhooks/orders', {
    tenantId: server.tenantId,
    orderNumber: 'STRIPE-UI-1',
    customerName: 'Ada Lovelace',
    amount: 10.99,
    status: 'pending',
  });
  expect(placed.status).toBe(201);
  await page.goto(server.url);
  // The live channel is up before the payment arrives (as in the other specs): a refresh sent
  // before the page's socket joined would not reach it.
  await expect(page.getByTestId('connection-status')).toHaveAttribute('data-state', 'connected');
  const row = page.getByTestId('recent-orders').locator('tbody tr', { hasText: 'STRIPE-UI-1' });
  await expect(row.locator('.pill')).toHaveText('pending');

  // Stripe's library signs the intent's success; the pill turns without a reload.
  const event = fixture('stripe_payment_intent_succeeded');
  event.id = 'evt_ui_pi';
  Object.assign(event.data.object, { status: 'succeeded', amount_received: 1099, metadata: { orderNumber: 'STRIPE-UI-1' } });
  const payload = JSON.stringify(event);
  const header = new Stripe('sk_test_unused').webhooks.generateTestHeaderString({ payload, secret: STRIPE_SECRET });
  const paid = await post(`/api/webhooks/stripe/${server.tenantId}`, { 'stripe-signature': header }, payload);
  expect(paid.status, JSON.stringify(paid.json)).toBe(200);
  await expect(row.locator('.pill')).toHaveText('paid');
});

test("Stripe's own library signs a delivery the server takes, and a tampered copy is refused", async () => {
  await connect('stripe', { signingSecret: STRIPE_SECRET });
  const stripe = new Stripe('sk_test_unused');
  const event = fixture('stripe_checkout_session_completed');
  event.id = 'evt_e2e_checkout';
  Object.assign(event.data.object, {
    payment_status: 'paid',
    amount_total: 12340,
    currency: 'kwd',
    client_reference_id: 'STRIPE-E2E-1',
  });
  const payload = JSON.stringify(event);
  const header = stripe.webhooks.generateTestHeaderString({ payload, secret: STRIPE_SECRET });
  // The library itself takes what it signed.
  expect(stripe.webhooks.constructEvent(payload, header, STRIPE_SECRET).id).toBe('evt_e2e_checkout');

  const route = `/api/webhooks/stripe/${server.tenantId}`;
  const taken = await post(route, { 'stripe-signature': header }, payload);
  expect(taken.status, JSON.stringify(taken.json)).toBe(201);
  expect(taken.json.orderNumber).toBe('STRIPE-E2E-1');
  const tampered = await post(route, { 'stripe-signature': header }, payload.replace('12340', '1'));
  expect(tampered.status).toBe(401);
  // Signed long ago with the library's own timestamp option: a replay, refused.
  const old = stripe.webhooks.generateTestHeaderString({
    payload,
    secret: STRIPE_SECRET,
    timestamp: Math.floor(Date.now() / 1000) - 600,
  });
  const stale = await post(route, { 'stripe-signature': old }, payload);
  expect([stale.status, stale.json.code]).toEqual([401, 'stale_timestamp']);
});

test("the server's Shopify check agrees with Shopify's own library on every request", async () => {
  await connect('shopify', { signingSecret: SHOPIFY_SECRET, shopDomain: SHOP });
  const shopify = shopifyApi({
    apiKey: 'e2e',
    apiSecretKey: SHOPIFY_SECRET,
    scopes: [],
    hostName: '127.0.0.1',
    apiVersion: ApiVersion.April26,
    isEmbeddedApp: false,
    logger: { level: 0 },
  });
  const order = fixture('shopify_orders_create');
  const body = JSON.stringify(order);
  const sign = (secret: string, text: string) => createHmac('sha256', secret).update(text, 'utf8').digest('base64');
  const cases = [
    { name: 'signed by the secret', hmac: sign(SHOPIFY_SECRET, body), body },
    { name: 'signed by another secret', hmac: sign('shpss_someone_else_entirely', body), body },
    { name: 'a body changed after signing', hmac: sign(SHOPIFY_SECRET, body), body: body.replace('404.95', '4.95') },
    { name: 'not base64', hmac: 'not base64 at all!', body },
  ];
  for (const [i, c] of cases.entries()) {
    const headers: Record<string, string> = {
      'x-shopify-hmac-sha256': c.hmac,
      'x-shopify-topic': 'orders/create',
      'x-shopify-shop-domain': SHOP,
      'x-shopify-webhook-id': `e2e-${i}`,
      'x-shopify-api-version': '2026-04',
    };
    const rawRequest = new Request(`${server.url}/api/webhooks/shopify/${server.tenantId}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: c.body,
    });
    const library = await shopify.webhooks.validate({ rawBody: c.body, rawRequest });
    const ours = await post(`/api/webhooks/shopify/${server.tenantId}`, headers, c.body);
    const accepted = ours.status === 200 || ours.status === 201;
    expect(accepted, `${c.name}: server ${ours.status} ${JSON.stringify(ours.json)}, library ${JSON.stringify(library)}`).toBe(
      library.valid,
    );
  }
});
