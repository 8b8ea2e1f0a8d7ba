import { test, expect } from '@playwright/test';
import { notify as notifyDemo, serverForThisFile } from './server';

// The notifications page: filters, "Load more" and marking several read,
// on a server of its own (so the counts are this file's).

// One server for this file; hydration mismatches, Rust panics and CSP violations fail the test.
const server = serverForThisFile();

const notify = (title: string, extra: object = {}) => notifyDemo(server, title, extra);

test('the notifications page filters, pages and marks several read', async ({ page }, testInfo) => {
  for (let i = 0; i < 22; i++) await notify(`Info ${i}`, { priority: 'low' });
  for (let i = 0; i < 3; i++) await notify(`Warning ${i}`, { type: 'warning', priority: 'high' });

  await page.goto(server.url);
  await page.getByTestId('nav-notifications').click();
  await page.waitForURL(`${server.url}/notifications`);
  await expect(page.getByTestId('connection-status')).toHaveAttribute('data-state', 'connected');
  const rows = page.getByTestId('notif-row');
  await expect(rows).toHaveCount(20);
  await expect(rows.first()).toContainText('Warning 2');
  await page.getByTestId('load-more').click();
  await expect(rows).toHaveCount(25);
  await expect(page.getByTestId('load-more')).toHaveCount(0);
  await page.screenshot({ path: testInfo.outputPath('notifications-page.png'), fullPage: true });

  await page.getByTestId('filter-type').selectOption('warning');
  await expect(rows).toHaveCount(3);
  for (const row of await rows.all()) await expect(row).toHaveAttribute('data-type', 'warning');

  await expect(page.getByTestId('bell')).toHaveAttribute('data-count', '25');
  await expect(page.getByTestId('mark-selected')).toBeDisabled();
  await rows.nth(0).getByRole('checkbox').check();
  await rows.nth(1).getByRole('checkbox').check();
  await expect(page.getByTestId('mark-selected')).toHaveText('Mark selected as read (2)');
  await page.getByTestId('mark-selected').click();
  await expect(page.getByTestId('bell')).toHaveAttribute('data-count', '23');
  await expect(rows.nth(0)).toHaveAttribute('data-state', 'read');

  await page.getByTestId('tab-unread').click();
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText('Warning 0');

  await page.getByTestId('filter-priority').selectOption('urgent');
  await expect(rows).toHaveCount(0);
  await expect(page.getByTestId('notif-empty')).toBeVisible();
});
