import { test, expect } from '@playwright/test';
import { postSigned, serverForThisFile } from './server';

// One server for this file; hydration mismatches, Rust panics and CSP violations fail the test.
const server = serverForThisFile();

test('the page is server-rendered with the current count and hydrates cleanly', async ({ page }) => {
  const res = await postSigned(server, '/api/webhooks/orders', {
    tenantId: server.tenantId,
    orderNumber: 'ORD-SSR-1',
    amount: 1,
  });
  expect(res.status).toBe(201);
  const html = await (await fetch(server.url)).text();
  expect(html).toContain('data-count="1"');
  expect(html).toContain('data-order="ORD-SSR-1"');
  await page.goto(server.url);
  await expect(page.getByTestId('connection-status')).toHaveAttribute('data-state', 'connected');
  await expect(page.getByTestId('bell-count')).toHaveText('1');
  await expect(page.getByTestId('recent-orders')).toContainText('ORD-SSR-1');
});

test('a signed order webhook raises the bell without a reload', async ({ page }, testInfo) => {
  await page.goto(server.url);
  await expect(page.getByTestId('tenant-name')).toHaveText('Demo Store');
  await expect(page.getByTestId('connection-status')).toHaveAttribute('data-state', 'connected');
  await expect(page.getByTestId('bell')).toHaveAttribute('data-count', '1');
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

  await expect(page.getByTestId('bell-count')).toHaveText('2');
  await expect(page.getByTestId('bell')).toHaveAttribute('aria-label', 'Notifications, 2 unread');
  await expect(page.getByTestId('activity')).toContainText('Order ORD-E2E-1 placed');

  const second = await postSigned(server, '/api/webhooks/orders', {
    tenantId: server.tenantId,
    orderNumber: 'ORD-E2E-2',
    amount: 5,
  });
  expect(second.status).toBe(201);
  await expect(page.getByTestId('bell-count')).toHaveText('3');
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

test('the indicator turns red when the server goes away and green again, with the right count', async ({ page }, testInfo) => {
  await page.goto(server.url);
  const status = page.getByTestId('connection-status');
  await expect(status).toHaveAttribute('data-state', 'connected');
  const before = Number(await page.getByTestId('bell').getAttribute('data-count'));

  await server.kill();
  await expect(status).toHaveAttribute('data-state', 'disconnected');
  await expect(status).toHaveAttribute('title', /Disconnected: retrying at \d\d:\d\d:\d\d/);
  await expect(page.getByTestId('toast').filter({ hasText: 'Connection lost' })).toBeVisible();
  await page.screenshot({ path: testInfo.outputPath('disconnected.png') });

  await server.restart();
  // An order that arrives while this tab is still away: the rejoin's ack brings the count.
  const res = await postSigned(server, '/api/webhooks/orders', {
    tenantId: server.tenantId,
    orderNumber: 'ORD-WHILE-AWAY',
    amount: 12.5,
  });
  expect(res.status).toBe(201);
  await expect(status).toHaveAttribute('data-state', 'connected', { timeout: 40_000 });
  await expect(page.getByTestId('toast').filter({ hasText: 'Connection restored' })).toBeVisible();
  await expect(page.getByTestId('bell')).toHaveAttribute('data-count', String(before + 1));
});

test('no secret appears in the server logs', async () => {
  const { stdout, stderr } = server.output();
  expect(stderr.length).toBeGreaterThan(0);
  expect(stderr).not.toContain(server.secret);
  // stdout carries the secret exactly once: the line printed when the tenant was created.
  expect(stdout.split(server.secret).length - 1).toBe(1);
});
