import { test, expect } from '@playwright/test';
import { startServer, postSigned, RunningServer } from './server';

let server: RunningServer;

test.beforeAll(async () => {
  server = await startServer();
});

test.afterAll(async () => {
  await server?.stop();
});

test('a signed order webhook raises the bell without a reload', async ({ page }, testInfo) => {
  await page.goto(server.url);
  await expect(page.getByTestId('tenant-name')).toHaveText('Demo Store');
  await expect(page.getByTestId('connection-status')).toHaveAttribute('data-state', 'connected');
  await expect(page.getByTestId('bell')).toHaveAttribute('data-count', '0');
  await expect(page.getByTestId('feed-empty')).toBeVisible();
  // A marker that a reload would wipe out.
  await page.evaluate(() => ((window as any).__noReload = true));

  const res = await postSigned(server, '/api/webhooks/orders', {
    tenantId: server.tenantId,
    orderNumber: 'ORD-E2E-1',
    customerName: 'Ada Lovelace',
    amount: 99.99,
  });
  expect(res.status).toBe(201);
  expect(res.json.success).toBe(true);

  await expect(page.getByTestId('bell-count')).toHaveText('1');
  await expect(page.getByTestId('bell')).toHaveAttribute('aria-label', 'Notifications, 1 unread');
  await expect(page.getByTestId('feed')).toContainText('New order ORD-E2E-1');
  await expect(page.getByTestId('feed-empty')).toHaveCount(0);

  const second = await postSigned(server, '/api/webhooks/orders', {
    tenantId: server.tenantId,
    orderNumber: 'ORD-E2E-2',
    amount: 5,
  });
  expect(second.status).toBe(201);
  await expect(page.getByTestId('bell-count')).toHaveText('2');
  expect(await page.evaluate(() => (window as any).__noReload)).toBe(true);

  await page.screenshot({ path: testInfo.outputPath('dashboard.png'), fullPage: true });
});

test('an unsigned webhook is refused and the bell stays put', async ({ page }) => {
  await page.goto(server.url);
  await expect(page.getByTestId('connection-status')).toHaveAttribute('data-state', 'connected');
  const before = await page.getByTestId('bell').getAttribute('data-count');
  const res = await fetch(`${server.url}/api/webhooks/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ tenantId: server.tenantId, orderNumber: 'NOPE', amount: 1 }),
  });
  expect(res.status).toBe(401);
  expect((await res.json()).success).toBe(false);
  await page.waitForTimeout(500);
  await expect(page.getByTestId('bell')).toHaveAttribute('data-count', before!);
});
