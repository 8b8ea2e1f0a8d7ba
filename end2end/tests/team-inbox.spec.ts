import { test, expect, Browser, BrowserContext, Page } from '@playwright/test';
import { notify as notifyDemo, postSigned, serverForThisFile } from './server';

// A team's inbox in real browsers: each user's own read state, snooze from
// the bell and its return, preferences that silence a toast in every tab,
// one server connection for the tabs of a browser, desktop notifications.

const server = serverForThisFile();
const password = 'correct horse battery';
const notify = (title: string, extra: object = {}) => notifyDemo(server, title, extra);

async function open(context: BrowserContext, path = '/'): Promise<Page> {
  const page = await context.newPage();
  page.on('pageerror', (e) => expect(e.message).toBe(''));
  await page.goto(`${server.url}${path}`);
  await expect(page.getByTestId('connection-status')).toHaveAttribute('data-state', 'connected');
  return page;
}

async function signIn(browser: Browser, email: string): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('pageerror', (e) => expect(e.message).toBe(''));
  await page.goto(`${server.url}/login`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${server.url}/`);
  await expect(page.getByTestId('connection-status')).toHaveAttribute('data-state', 'connected');
  return page;
}

test('one user marking all read leaves the other user’s bell as it was', async ({ browser }, testInfo) => {
  const shop = server.cli(['tenant', 'create', '--name', 'Team Shop']);
  for (const who of ['ada', 'bo']) {
    server.cli(['user', 'add', '--tenant', shop.slug, '--email', `${who}@example.com`, '--name', who, '--role', 'member'], `${password}\n`);
  }
  const ada = await signIn(browser, 'ada@example.com');
  const bo = await signIn(browser, 'bo@example.com');
  const send = async (title: string, priority = 'low') => {
    const res = await postSigned(server, '/api/webhooks/notifications', { tenantId: shop.tenantId, title, message: 'm', priority }, shop.webhookSecret);
    expect(res.status).toBe(201);
  };
  await send('First');
  await send('Second', 'urgent');
  for (const page of [ada, bo]) {
    await expect(page.getByTestId('bell')).toHaveAttribute('data-count', '2');
    // The badge takes the colour of the most urgent unread one.
    await expect(page.getByTestId('bell-count')).toHaveAttribute('data-priority', 'urgent');
  }
  await ada.getByTestId('bell').click();
  await ada.getByRole('button', { name: 'Mark all as read' }).click();
  await expect(ada.getByTestId('bell')).toHaveAttribute('data-count', '0');
  // One more for everyone: Ada's bell counts it from zero, Bo's from two.
  await send('Third');
  await expect(ada.getByTestId('bell')).toHaveAttribute('data-count', '1');
  await expect(bo.getByTestId('bell')).toHaveAttribute('data-count', '3');
  await expect(ada.getByTestId('bell-count')).toHaveAttribute('data-priority', 'low');
  await bo.reload();
  await expect(bo.getByTestId('bell')).toHaveAttribute('data-count', '3');
  await ada.screenshot({ path: testInfo.outputPath('ada.png') });
  await bo.screenshot({ path: testInfo.outputPath('bo.png') });
  await Promise.all([ada.context().close(), bo.context().close()]);
});

test('a notification snoozed from the bell leaves it and comes back unread', async ({ page }) => {
  await page.goto(server.url);
  await expect(page.getByTestId('connection-status')).toHaveAttribute('data-state', 'connected');
  const before = Number(await page.getByTestId('bell').getAttribute('data-count'));
  const id = await notify('Snooze me', { priority: 'high' });
  await expect(page.getByTestId('bell')).toHaveAttribute('data-count', String(before + 1));
  await page.getByTestId('bell').click();
  const item = page.getByTestId('bell-item').filter({ hasText: 'Snooze me' });
  await item.getByTestId('snooze').click();
  await expect(item.getByTestId('snooze-menu')).toBeVisible();
  await item.getByTestId('snooze-hour').click();
  await expect(item).toHaveCount(0);
  await expect(page.getByTestId('bell')).toHaveAttribute('data-count', String(before));
  // It is on the Snoozed tab…
  await page.keyboard.press('Escape');
  await page.getByTestId('nav-notifications').click();
  await page.waitForURL(`${server.url}/notifications`);
  await page.getByTestId('tab-snoozed').click();
  const row = page.getByTestId('notif-row').filter({ hasText: 'Snooze me' });
  await expect(row).toHaveAttribute('data-state', 'snoozed');
  await page.getByTestId('tab-unread').click();
  await expect(row).toHaveCount(0);
  // …and a snooze of two seconds (the test server allows one that short) brings it back by itself.
  const until = new Date(Date.now() + 2000).toISOString();
  const res = await page.evaluate(
    async ([id, until]) =>
      (await fetch(`/api/notifications/${id}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ snoozedUntil: until }) })).status,
    [id, until],
  );
  expect(res).toBe(200);
  await expect(row).toHaveCount(1, { timeout: 15_000 });
  await expect(row).toHaveAttribute('data-state', 'unread');
  await page.getByTestId('bell').click();
  await expect(item).toHaveAttribute('data-read', 'false');
  await expect(page.getByTestId('bell')).toHaveAttribute('data-count', String(before + 1));
});

test('preferences silence a toast in every open tab, never the count', async ({ context }) => {
  const other = await open(context, '/');
  const settings = await open(context, '/settings/notifications');
  await settings.getByTestId('pref-min-priority').selectOption('high');
  await expect(settings.getByTestId('pref-saved')).toBeVisible();
  const before = Number(await other.getByTestId('bell').getAttribute('data-count'));
  await notify('Quiet please', { priority: 'low' });
  await notify('Loud and clear', { priority: 'urgent' });
  await expect(other.getByTestId('toast').filter({ hasText: 'Loud and clear' })).toBeVisible();
  await expect(other.getByTestId('toast').filter({ hasText: 'Quiet please' })).toHaveCount(0);
  await expect(other.getByTestId('bell')).toHaveAttribute('data-count', String(before + 2));
  await settings.getByTestId('pref-min-priority').selectOption('low');
  await expect(settings.getByTestId('pref-min-priority')).toHaveValue('low');
});

test('three tabs hold one server connection, and closing the holder hands it over', async ({ browser }) => {
  const context = await browser.newContext();
  const tabs = [await open(context), await open(context), await open(context)];
  const connections = async () => (await tabs[tabs.length - 1].evaluate(async () => (await fetch('/api/me/connections')).json())).sockets;
  await expect.poll(connections).toBe(1);
  const before = Number(await tabs[1].getByTestId('bell').getAttribute('data-count'));
  // The first tab holds it; a notification sent while it closes is not lost.
  await tabs.shift()!.close();
  await notify('Handed over');
  for (const tab of tabs) {
    await expect(tab.getByTestId('bell')).toHaveAttribute('data-count', String(before + 1));
  }
  await expect.poll(connections).toBe(1);
  await context.close();

  // A browser without Web Locks: each tab connects on its own, and still works.
  const plain = await browser.newContext();
  await plain.addInitScript(() => Object.defineProperty(Navigator.prototype, 'locks', { get: () => undefined }));
  const own = [await open(plain), await open(plain)];
  const count = async () => (await own[0].evaluate(async () => (await fetch('/api/me/connections')).json())).sockets;
  await expect.poll(count).toBe(2);
  const now = Number(await own[1].getByTestId('bell').getAttribute('data-count'));
  await notify('Each on its own');
  for (const tab of own) await expect(tab.getByTestId('bell')).toHaveAttribute('data-count', String(now + 1));
  await plain.close();
});

test('a desktop notification shows when the page is hidden and permission is granted', async ({ browser }) => {
  const context = await browser.newContext({ permissions: ['notifications'] });
  // Record what the page shows, and let the test say when the page is hidden.
  await context.addInitScript(() => {
    const w = window as any;
    const Real = w.Notification;
    w.__shown = [];
    w.__hidden = false;
    class Recorded extends Real {
      constructor(title: string, options?: any) {
        super(title, options);
        w.__shown.push(this);
      }
    }
    w.Notification = Recorded;
    Object.defineProperty(document, 'hidden', { get: () => w.__hidden === true });
  });
  const page = await open(context, '/settings/notifications');
  await expect(page.getByTestId('pref-permission')).toHaveAttribute('data-permission', 'granted');
  await page.getByTestId('pref-desktop').check();
  await expect(page.getByTestId('pref-saved')).toBeVisible();
  await notify('While visible', { priority: 'high' });
  await expect(page.getByTestId('toast').filter({ hasText: 'While visible' })).toBeVisible();
  await page.evaluate(() => ((window as any).__hidden = true));
  await notify('While away', { priority: 'high', actionUrl: '/notifications' });
  await expect.poll(() => page.evaluate(() => (window as any).__shown.map((n: Notification) => n.title))).toEqual(['While away']);
  await page.evaluate(() => (window as any).__shown[0].onclick());
  await page.waitForURL(`${server.url}/notifications`);
  await page.getByTestId('nav-preferences').click();
  await page.getByTestId('pref-desktop').uncheck();
  await expect(page.getByTestId('pref-desktop')).not.toBeChecked();
  await context.close();
});
