import { test, expect } from '@playwright/test';
import { serverForThisFile } from './server';

// Settings → API keys: create (shown once, copy button), use, revoke.

// One server for this file; hydration mismatches, Rust panics and CSP violations fail the test.
const server = serverForThisFile();

async function me(key: string): Promise<number> {
  const res = await fetch(`${server.url}/api/auth/me`, { headers: { authorization: `Bearer ${key}` } });
  return res.status;
}

test('an admin creates a key, copies it once, uses it and revokes it', async ({ page, context }, testInfo) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
  await page.goto(server.url);
  await page.getByTestId('nav-api-keys').click();
  await page.waitForURL(`${server.url}/settings/api-keys`);
  await expect(page.getByRole('heading', { name: 'API keys' })).toBeVisible();

  await page.getByTestId('key-name').fill('Warehouse sync');
  await page.getByTestId('key-role').selectOption('member');
  await page.getByTestId('create-key').click();
  const value = page.getByTestId('new-key-value');
  await expect(value).toHaveText(/^hb_[0-9a-f]{8}_/);
  const key = (await value.textContent())!;
  await expect(page.getByTestId('new-key')).toContainText('not shown again');
  await page.getByTestId('copy-key').click();
  await expect(page.getByTestId('copy-key')).toHaveText('Copied');
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(key);
  await page.screenshot({ path: testInfo.outputPath('api-keys.png'), fullPage: true });

  const row = page.getByTestId('key-row').filter({ hasText: 'Warehouse sync' });
  await expect(row).toHaveAttribute('data-state', 'active');
  await expect(row).toContainText(key.slice(0, 11));
  await expect(row).not.toContainText(key);
  expect(await me(key)).toBe(200);

  await row.getByRole('button', { name: 'Revoke Warehouse sync' }).click();
  await expect(row).toHaveAttribute('data-state', 'revoked');
  expect(await me(key)).toBe(401);

  // After a reload the key is nowhere on the page.
  await page.reload();
  await expect(page.getByTestId('key-row').filter({ hasText: 'Warehouse sync' })).toBeVisible();
  expect(await page.content()).not.toContain(key);
});
