import { test, expect } from '@playwright/test';
import { postSigned, serverForThisFile } from './server';

// Signing in: a user of another tenant, made with the administration CLI,
// signs in on /login and sees their own tenant; signing out ends the session.

// One server for this file; hydration mismatches, Rust panics and CSP violations fail the test.
const server = serverForThisFile();

test.beforeAll(() => {
  const shop = server.cli(['tenant', 'create', '--name', 'Login Shop']);
  server.cli(['user', 'add', '--tenant', shop.slug, '--email', 'ada@example.com', '--name', 'Ada Lovelace', '--role', 'admin'], 'correct horse battery\n');
});

test('a wrong password is refused with a message, the right one signs in to the user\'s tenant', async ({ page, context }, testInfo) => {
  await page.goto(`${server.url}/login`);
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  await page.getByLabel('Email').fill('ada@example.com');
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('login-error')).toHaveText('Invalid email or password');
  expect((await context.cookies()).find((c) => c.name === 'hookbell_session')).toBeUndefined();
  await page.screenshot({ path: testInfo.outputPath('login-refused.png') });

  await page.getByLabel('Password').fill('correct horse battery');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${server.url}/`);
  await expect(page.getByTestId('tenant-name')).toHaveText('Login Shop');
  await expect(page.getByTestId('user-name')).toHaveText('Ada Lovelace');
  await expect(page.getByTestId('connection-status')).toHaveAttribute('data-state', 'connected');
  const cookie = (await context.cookies()).find((c) => c.name === 'hookbell_session');
  expect(cookie?.httpOnly).toBe(true);
  expect(cookie?.sameSite).toBe('Lax');
  expect(await page.evaluate(() => document.cookie)).not.toContain('hookbell_session');
  await page.screenshot({ path: testInfo.outputPath('signed-in.png'), fullPage: true });

  await page.getByTestId('sign-out').click();
  await page.waitForURL(`${server.url}/login`);
  const after = (await context.cookies()).find((c) => c.name === 'hookbell_session');
  expect(after?.value ?? '').toBe('');
  // The old cookie opens nothing any more.
  const me = await fetch(`${server.url}/api/auth/me`, { headers: { cookie: `hookbell_session=${cookie!.value}` } });
  expect(me.status).toBe(401);
});

test('a user of two tenants switches between them from the header', async ({ page }, testInfo) => {
  const second = server.cli(['tenant', 'create', '--name', 'Second Shop']);
  server.cli(['user', 'add', '--tenant', second.slug, '--email', 'ada@example.com', '--role', 'member'], '\n');

  await page.goto(`${server.url}/login`);
  await page.getByLabel('Email').fill('ada@example.com');
  await page.getByLabel('Password').fill('correct horse battery');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${server.url}/`);
  await expect(page.getByTestId('tenant-name')).toHaveText('Login Shop');
  // The page is hydrated (its live channel is up) before the switcher is used: a change made to
  // the server-rendered select before then has no handler to hear it.
  await expect(page.getByTestId('connection-status')).toHaveAttribute('data-state', 'connected');

  await page.getByTestId('tenant-switcher').selectOption({ label: 'Second Shop' });
  await expect(page.getByTestId('tenant-name')).toHaveText('Second Shop');
  await expect(page.getByTestId('connection-status')).toHaveAttribute('data-state', 'connected');
  await expect(page.getByTestId('tenant-switcher')).toHaveValue(second.tenantId);

  // The live channel follows: the second shop's webhook raises this bell.
  const res = await postSigned(
    server,
    '/api/webhooks/notifications',
    { tenantId: second.tenantId, title: 'For the second shop', message: 'Hello' },
    second.webhookSecret,
  );
  expect(res.status).toBe(201);
  await expect(page.getByTestId('bell')).toHaveAttribute('data-count', '1');
  await page.screenshot({ path: testInfo.outputPath('switched.png') });

  // The choice is remembered.
  await page.reload();
  await expect(page.getByTestId('tenant-name')).toHaveText('Second Shop');
});
