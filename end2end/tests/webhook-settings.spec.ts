import { test, expect } from '@playwright/test';
import { createHmac } from 'node:crypto';
import { postSigned, serverForThisFile } from './server';

// Settings → Webhooks: URLs with copy buttons, endpoint switches, the test
// webhook, the event log and secret rotation, against the real server.

// One server for this file; hydration mismatches, Rust panics and CSP violations fail the test.
const server = serverForThisFile();

const note = (title: string) => ({ tenantId: server.tenantId, title, message: `${title}: details` });

/** POSTs `payload` signed the Standard Webhooks way with the demo tenant's secret. */
async function postStandard(route: string, payload: object, id: string) {
  const body = JSON.stringify(payload);
  const ts = Math.floor(Date.now() / 1000).toString();
  const key = Buffer.from(server.secret.replace(/^whsec_/, ''), 'base64');
  const signature = createHmac('sha256', key).update(`${id}.${ts}.${body}`).digest('base64');
  const res = await fetch(`${server.url}${route}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': ts,
      'webhook-signature': `v1,${signature}`,
    },
    body,
  });
  return { status: res.status, json: await res.json() };
}

test('an admin turns off the replayable signature scheme, told what it risks', async ({ page }) => {
  await page.goto(`${server.url}/settings/webhooks`);
  const seed = page.getByTestId('switch-seed-signatures');
  await expect(seed).toBeChecked();
  await expect(page.getByText('can send it again at any time')).toBeVisible();
  await seed.uncheck();
  await page.getByTestId('save-settings').click();
  await expect(page.getByTestId('settings-saved')).toBeVisible();
  let res = await postSigned(server, '/api/webhooks/notifications', note('Seed scheme'));
  expect(res.status).toBe(401);
  expect(res.json.code).toBe('scheme_refused');
  res = await postStandard('/api/webhooks/notifications', note('Standard scheme'), 'msg_e2e_standard');
  expect(res.status).toBe(201);
  // After a reload the page shows what is stored; switched back on, the seed's scheme works again.
  await page.reload();
  await expect(page.getByTestId('switch-seed-signatures')).not.toBeChecked();
  await page.getByTestId('switch-seed-signatures').check();
  await page.getByTestId('save-settings').click();
  await expect(page.getByTestId('settings-saved')).toBeVisible();
  res = await postSigned(server, '/api/webhooks/notifications', note('Seed again'));
  expect(res.status).toBe(201);
});

// (Runs first: the next test rotates the demo tenant's secret.)

test('an admin switches endpoints, tests delivery, reads the log and rotates the secret', async ({ page, context }, testInfo) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
  await page.goto(server.url);
  await page.getByTestId('nav-webhooks').click();
  await page.waitForURL(`${server.url}/settings/webhooks`);
  await expect(page.getByRole('heading', { name: 'Webhooks' })).toBeVisible();

  // The URLs, and copying one.
  await expect(page.getByTestId('url-orders')).toHaveText(`${server.url}/api/webhooks/orders`);
  await page.getByRole('button', { name: 'Copy the Orders URL' }).click();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(`${server.url}/api/webhooks/orders`);

  // Numbers are checked: an empty field is explained; out of range, the browser itself holds the form.
  const retries = page.getByTestId('retry-attempts');
  await retries.fill('');
  await page.getByTestId('save-settings').click();
  await expect(page.getByTestId('settings-error')).toHaveText('Retry attempts must be a whole number');
  await retries.fill('11');
  expect(await retries.evaluate((el: HTMLInputElement) => el.validity.rangeOverflow)).toBe(true);
  await retries.fill('3');

  // Notifications off: a correctly signed notification webhook is refused.
  await page.getByTestId('switch-notifications').uncheck();
  await page.getByTestId('save-settings').click();
  await expect(page.getByTestId('settings-saved')).toBeVisible();
  let res = await postSigned(server, '/api/webhooks/notifications', note('While off'));
  expect(res.status).toBe(403);
  expect(res.json.error).toContain('notifications');
  await page.getByTestId('switch-notifications').check();
  await page.getByTestId('save-settings').click();
  await expect(page.getByTestId('switch-notifications')).toBeChecked();
  res = await postSigned(server, '/api/webhooks/notifications', note('Back on'));
  expect(res.status).toBe(201);

  // The test webhook reaches the server's own URL.
  await page.getByTestId('send-test').click();
  const report = page.getByTestId('test-report');
  await expect(report).toHaveAttribute('data-success', 'true', { timeout: 20_000 });
  await expect(report.getByTestId('test-attempt').first()).toContainText('HTTP 201');

  // The event log shows the refusal and the deliveries.
  await expect(page.getByTestId('event-row').filter({ hasText: '403' }).first()).toHaveAttribute('data-outcome', 'rejected');
  await expect(page.getByTestId('event-row').filter({ hasText: 'accepted' }).first()).toBeVisible();
  await page.screenshot({ path: testInfo.outputPath('webhook-settings.png'), fullPage: true });

  // Rotation without grace: the old secret stops working at once, the new one works.
  await page.getByTestId('rotate-secret').click();
  const fresh = page.getByTestId('new-secret-value');
  await expect(fresh).toHaveText(/^whsec_/);
  const secret = (await fresh.textContent())!;
  await expect(page.getByTestId('secret-hint')).toHaveText(`…${secret.slice(-4)}`);
  res = await postSigned(server, '/api/webhooks/notifications', note('Old secret'));
  expect(res.status).toBe(401);
  res = await postSigned(server, '/api/webhooks/notifications', note('New secret'), secret);
  expect(res.status).toBe(201);
});

