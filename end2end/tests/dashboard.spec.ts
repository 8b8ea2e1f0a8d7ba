import { test, expect, Page } from '@playwright/test';
import { postSigned, serverForThisFile } from './server';

// The dashboard page: KPI cards, recent orders and the activity feed move as
// signed webhooks arrive, over the socket, without a reload.

// One server for this file; hydration mismatches, Rust panics and CSP violations fail the test.
const server = serverForThisFile();

async function open(page: Page) {
  await page.goto(server.url);
  await expect(page.getByTestId('connection-status')).toHaveAttribute('data-state', 'connected');
}

/** Posts a signed payment change for one of the tenant's orders; it is applied (200). */
async function payment(orderNumber: string, status: string, paymentId: string) {
  const res = await postSigned(server, '/api/webhooks/payments', { tenantId: server.tenantId, orderNumber, status, paymentId });
  expect(res.status).toBe(200);
}

async function order(orderNumber: string, amount: number, status: string, customerName = 'Grace Hopper') {
  const res = await postSigned(server, '/api/webhooks/orders', {
    tenantId: server.tenantId,
    orderNumber,
    customerName,
    amount,
    currency: 'EUR',
    status,
  });
  expect(res.status).toBe(201);
}

test('an empty dashboard says what to do, then fills in live as orders and payments arrive', async ({ page }, testInfo) => {
  const fetches: string[] = [];
  page.on('request', (r) => r.url().includes('/api/dashboard-overview') && fetches.push(r.url()));
  await open(page);
  await page.waitForTimeout(300);
  expect(fetches, 'hydration uses the server-rendered figures, no second fetch').toEqual([]);
  await expect(page.getByTestId('kpi-orders')).toContainText('0');
  await expect(page.getByTestId('kpi-revenue')).toContainText('0.00');
  await expect(page.getByTestId('orders-empty')).toContainText('No orders yet');
  await page.screenshot({ path: testInfo.outputPath('dashboard-empty.png'), fullPage: true });
  await page.evaluate(() => ((window as any).__noReload = true));

  await order('DASH-1', 120, 'paid');
  await expect(page.getByTestId('kpi-orders').locator('.kpi-value')).toHaveText('1');
  await expect(page.getByTestId('kpi-revenue').locator('.kpi-value')).toHaveText('120.00 EUR');
  await expect(page.getByTestId('recent-orders').locator('tbody tr').first()).toContainText('DASH-1');
  await expect(page.getByTestId('activity')).toContainText('Order DASH-1 placed · 120.00 EUR');

  await order('DASH-2', 30.5, 'pending', 'Alan Turing');
  await expect(page.getByTestId('kpi-orders').locator('.kpi-value')).toHaveText('2');
  await expect(page.getByTestId('kpi-payments')).toContainText('1 paid · 1 pending');
  const newest = page.getByTestId('recent-orders').locator('tbody tr').first();
  await expect(newest).toContainText('DASH-2');
  await expect(newest).toContainText('30.50 EUR');
  await expect(newest.locator('.pill')).toHaveText('pending');
  await expect(page.getByTestId('kpi-revenue').locator('.kpi-value')).toHaveText('120.00 EUR');

  await payment('DASH-2', 'paid', 'pay_dash_2');
  await expect(page.getByTestId('kpi-payments')).toContainText('2 paid · 0 pending');
  await expect(page.getByTestId('kpi-revenue').locator('.kpi-value')).toHaveText('150.50 EUR');
  await expect(newest.locator('.pill')).toHaveText('paid');
  await expect(page.getByTestId('activity').locator('li').first()).toContainText('Payment for DASH-2: pending → paid');

  // A notification webhook shows in the activity feed too.
  const note = await postSigned(server, '/api/webhooks/notifications', {
    tenantId: server.tenantId,
    title: 'Stock is low',
    message: 'Widgets: 3 left',
    type: 'warning',
  });
  expect(note.status).toBe(201);
  await expect(page.getByTestId('activity').locator('li').first()).toContainText('Notification: Stock is low');
  expect(await page.evaluate(() => (window as any).__noReload)).toBe(true);
  await page.screenshot({ path: testInfo.outputPath('dashboard.png'), fullPage: true });

  // The same figures after a reload (server-rendered), and on a phone.
  await page.setViewportSize({ width: 360, height: 740 });
  await open(page);
  await expect(page.getByTestId('kpi-orders').locator('.kpi-value')).toHaveText('2');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await page.screenshot({ path: testInfo.outputPath('dashboard-360.png'), fullPage: true });
});

test('a payment made while the tab was away shows once it is back: the rejoin fetches the figures again', async ({ page }) => {
  await order('AWAY-1', 40, 'pending');
  // Every socket of the page passes through here; `held` keeps a new one from reaching the server.
  let release: () => void = () => {};
  let held = Promise.resolve();
  const sockets: { close: () => Promise<void> }[] = [];
  await page.routeWebSocket(/\/socket\.io\//, async (ws) => {
    sockets.push(ws);
    await held;
    ws.connectToServer();
  });
  await open(page);
  const row = page.getByTestId('recent-orders').locator('tbody tr', { hasText: 'AWAY-1' });
  await expect(row.locator('.pill')).toHaveText('pending');

  // The socket drops; its reconnection waits while the payment arrives, which no socket hears.
  held = new Promise((resolve) => (release = resolve));
  await sockets[sockets.length - 1].close();
  await expect(page.getByTestId('connection-status')).not.toHaveAttribute('data-state', 'connected');
  await payment('AWAY-1', 'paid', 'pay_away_1');
  await expect.poll(() => sockets.length, { timeout: 40_000 }).toBeGreaterThan(1);
  release();
  await expect(page.getByTestId('connection-status')).toHaveAttribute('data-state', 'connected', { timeout: 40_000 });
  // A paid order sends no notification to replay: the figures come from the fetch after the rejoin.
  await expect(row.locator('.pill')).toHaveText('paid');
});

// The release bundle is split per page (`cargo leptos build --split`, app/src/pages/routes.rs):
// a first visit fetches the code of its own page and no other's, and a navigation fetches the
// next page's code before showing it.
test("a first visit loads its own page's code only; a navigation loads the next page's", async ({ page }) => {
  const pages: string[] = [];
  page.on('request', (r) => {
    const m = /\/pkg\/[0-9a-f]{16}\/split___([a-z_]+?)_view_\d+\.wasm$/.exec(new URL(r.url()).pathname);
    if (m) pages.push(m[1]);
  });
  await open(page);
  await expect(page.getByTestId('kpi-orders')).toBeVisible();
  expect(pages).toEqual(['dashboard']);

  await page.getByTestId('nav-webhooks').click();
  await page.waitForURL(`${server.url}/settings/webhooks`);
  await expect(page.getByRole('heading', { name: 'Webhooks' })).toBeVisible();
  await expect(page.getByTestId('url-orders')).toHaveText(`${server.url}/api/webhooks/orders`);
  expect(pages).toEqual(['dashboard', 'webhook_settings']);

  // Back to the dashboard: its code is already here, and the page is live again.
  await page.getByRole('link', { name: 'Dashboard', exact: true }).click();
  await page.waitForURL(`${server.url}/`);
  await order('SPLIT-1', 10, 'paid');
  await expect(page.getByTestId('recent-orders').locator('tbody tr').first()).toContainText('SPLIT-1');
  expect(pages).toEqual(['dashboard', 'webhook_settings']);
});
