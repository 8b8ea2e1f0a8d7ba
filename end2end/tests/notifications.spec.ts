import { test, expect, Page } from '@playwright/test';
import { notify as notifyDemo, postSigned, serverForThisFile } from './server';

// The bell's dropdown (mark read, dismiss, mark all read, action links,
// keyboard) and the toasts, in a real browser against the real server; a
// second tab must follow every change through the socket.

// One server for this file; hydration mismatches, Rust panics and CSP violations fail the test.
const server = serverForThisFile();

const notify = (title: string, extra: object = {}) => notifyDemo(server, title, extra);

async function open(page: Page) {
  await page.goto(server.url);
  await expect(page.getByTestId('connection-status')).toHaveAttribute('data-state', 'connected');
}

async function count(page: Page): Promise<number> {
  return Number(await page.getByTestId('bell').getAttribute('data-count'));
}

test('the bell dropdown marks read, dismisses and marks all read, in every tab', async ({ page, context }, testInfo) => {
  await open(page);
  const other = await context.newPage();
  await open(other);
  const start = await count(page);

  await notify('Low stock: mugs', {
    type: 'warning',
    priority: 'high',
    actionUrl: '/products/mugs',
    actionText: 'Manage stock',
  });
  await notify('Payment received', { type: 'success' });
  await expect(page.getByTestId('bell')).toHaveAttribute('data-count', String(start + 2));

  await page.getByTestId('bell').click();
  const panel = page.getByTestId('bell-panel');
  await expect(panel).toBeVisible();
  await expect(page.getByTestId('bell')).toHaveAttribute('aria-expanded', 'true');
  const mugs = panel.getByTestId('bell-item').filter({ hasText: 'Low stock: mugs' });
  await expect(mugs).toHaveAttribute('data-priority', 'high');
  await expect(mugs).toHaveAttribute('data-type', 'warning');
  await expect(mugs.getByRole('link', { name: 'Manage stock' })).toHaveAttribute('href', '/products/mugs');
  await expect(mugs.getByTestId('bell-item-time')).toContainText(/just now|ago/);
  await page.screenshot({ path: testInfo.outputPath('bell-dropdown.png'), fullPage: true });

  await mugs.getByRole('button', { name: 'Mark read' }).click();
  await expect(page.getByTestId('bell')).toHaveAttribute('data-count', String(start + 1));
  await expect(mugs).toHaveAttribute('data-read', 'true');
  await expect(other.getByTestId('bell')).toHaveAttribute('data-count', String(start + 1));

  const paid = panel.getByTestId('bell-item').filter({ hasText: 'Payment received' });
  await paid.getByRole('button', { name: 'Dismiss' }).click();
  await expect(paid).toHaveCount(0);
  await expect(page.getByTestId('bell')).toHaveAttribute('data-count', String(start));
  await expect(other.getByTestId('bell')).toHaveAttribute('data-count', String(start));

  await notify('One more');
  await expect(page.getByTestId('bell')).toHaveAttribute('data-count', String(start + 1));
  await panel.getByRole('button', { name: 'Mark all as read' }).click();
  await expect(page.getByTestId('bell')).toHaveAttribute('data-count', '0');
  await expect(other.getByTestId('bell')).toHaveAttribute('data-count', '0');
  await expect(page.getByTestId('bell-count')).toHaveCount(0);

  // Keyboard: Escape closes the panel and gives focus back to the bell.
  await page.keyboard.press('Escape');
  await expect(panel).toBeHidden();
  await expect(page.getByTestId('bell')).toBeFocused();
  await expect(page.getByTestId('bell')).toHaveAttribute('aria-expanded', 'false');
  await page.keyboard.press('Enter');
  await expect(panel).toBeVisible();
});

test('new notifications show toasts; a high-priority one stays until closed', async ({ page }, testInfo) => {
  await open(page);
  const toasts = page.getByTestId('toasts');
  await expect(toasts).toHaveAttribute('aria-live', 'polite');

  await notify('Routine info', { priority: 'low' });
  const routine = toasts.getByTestId('toast').filter({ hasText: 'Routine info' });
  await expect(routine).toBeVisible();
  await notify('Checkout is down', { type: 'error', priority: 'urgent' });
  const urgent = toasts.getByTestId('toast').filter({ hasText: 'Checkout is down' });
  await expect(urgent).toBeVisible();
  await expect(urgent).toHaveAttribute('data-type', 'error');
  await page.screenshot({ path: testInfo.outputPath('toasts.png') });

  // The routine toast leaves by itself; the urgent one waits to be closed.
  await expect(routine).toHaveCount(0, { timeout: 12_000 });
  await expect(urgent).toBeVisible();
  await urgent.getByRole('button', { name: 'Close' }).click();
  await expect(urgent).toHaveCount(0);
});

test('two tenants signed in side by side each see only their own', async ({ browser }, testInfo) => {
  const password = 'correct horse battery';
  const shops = ['North Shop', 'South Shop'].map((name, i) => {
    const t = server.cli(['tenant', 'create', '--name', name]);
    const email = `staff${i}@example.com`;
    server.cli(['user', 'add', '--tenant', t.slug, '--email', email, '--name', `Staff ${i}`, '--role', 'member'], `${password}\n`);
    return { ...t, name, email };
  });
  const pages: Page[] = [];
  for (const shop of shops) {
    const page = await (await browser.newContext()).newPage();
    page.on('pageerror', (e) => expect(e.message).toBe(''));
    await page.goto(`${server.url}/login`);
    await page.getByLabel('Email').fill(shop.email);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${server.url}/`);
    await expect(page.getByTestId('tenant-name')).toHaveText(shop.name);
    await expect(page.getByTestId('connection-status')).toHaveAttribute('data-state', 'connected');
    pages.push(page);
  }
  const [north, south] = pages;

  const res = await postSigned(
    server,
    '/api/webhooks/notifications',
    { tenantId: shops[0].tenantId, title: 'North only', message: 'For the north shop' },
    shops[0].webhookSecret,
  );
  expect(res.status).toBe(201);
  await expect(north.getByTestId('bell')).toHaveAttribute('data-count', '1');
  await expect(north.getByTestId('toast').filter({ hasText: 'North only' })).toBeVisible();
  await expect(north.getByTestId('activity')).toContainText('Notification: North only');

  // The other tenant's page hears nothing of it, now or after a reload.
  await south.waitForTimeout(500);
  await expect(south.getByTestId('bell')).toHaveAttribute('data-count', '0');
  await expect(south.getByTestId('toast')).toHaveCount(0);
  await south.reload();
  await expect(south.getByTestId('orders-empty')).toBeVisible();
  await expect(south.locator('main')).not.toContainText('North only');
  await expect(south.getByTestId('bell')).toHaveAttribute('data-count', '0');
  await north.screenshot({ path: testInfo.outputPath('north.png') });
  await south.screenshot({ path: testInfo.outputPath('south.png') });
  await Promise.all(pages.map((p) => p.context().close()));
});

test('the header, the bell panel and toasts fit a 360 px wide screen', async ({ page }, testInfo) => {
  await page.setViewportSize({ width: 360, height: 740 });
  await open(page);
  await notify('A notification with a rather long title that has to wrap on a phone', { priority: 'high' });
  await page.getByTestId('bell').click();
  await expect(page.getByTestId('bell-panel')).toBeVisible();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  for (const id of ['bell-panel', 'toasts']) {
    const box = await page.getByTestId(id).boundingBox();
    expect(box!.x).toBeGreaterThanOrEqual(0);
    expect(box!.x + box!.width).toBeLessThanOrEqual(360);
  }
  await page.screenshot({ path: testInfo.outputPath('phone.png') });
});
