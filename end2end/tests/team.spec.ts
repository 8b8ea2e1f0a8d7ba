import { test, expect, Page } from '@playwright/test';
import { serverForThisFile } from './server';

// A team from the browser alone: an owner invites a colleague on Settings →
// Members, a second browser opens the link, creates an account and sees the
// tenant's bell, and the owner's page shows the new member without a reload.
// A password changed on the Account page ends the other browser's session.

const server = serverForThisFile();
const PASSWORD = 'correct horse battery';

test.beforeAll(() => {
  const shop = server.cli(['tenant', 'create', '--name', 'Team Shop']);
  server.cli(['user', 'add', '--tenant', shop.slug, '--email', 'olga@example.com', '--name', 'Olga Owner', '--role', 'owner'], `${PASSWORD}\n`);
  server.cli(['user', 'add', '--tenant', shop.slug, '--email', 'sam@example.com', '--name', 'Sam Two', '--role', 'member'], `${PASSWORD}\n`);
});

/** The page problems a second browser's page has (the `page` fixture's are checked for every test). */
function watch(page: Page): string[] {
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (/panicked|hydration|unreachable|Content Security Policy/i.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  return problems;
}

async function signIn(page: Page, email: string, password = PASSWORD) {
  await page.goto(`${server.url}/login`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${server.url}/`);
}

test('an owner invites a colleague, who opens the link in another browser, signs up and joins', async ({ page, browser }, testInfo) => {
  await signIn(page, 'olga@example.com');
  await page.getByTestId('nav-members').click();
  await page.waitForURL(`${server.url}/settings/members`);
  await expect(page.getByTestId('member-row')).toHaveCount(2);
  await page.getByTestId('invite-email').fill('nia@example.com');
  await page.getByTestId('invite-role').selectOption('member');
  await page.getByTestId('invite').click();
  const url = (await page.getByTestId('invitation-url').textContent())!;
  expect(url).toMatch(/\/invite#hbi_[A-Za-z0-9_-]{43}$/);
  await expect(page.getByTestId('invitation-row')).toHaveCount(1);
  await expect(page.getByTestId('invitation-row')).toHaveAttribute('data-email', 'nia@example.com');
  await page.screenshot({ path: testInfo.outputPath('invited.png'), fullPage: true });

  // A second browser, signed in as nobody, opens the link.
  const other = await browser.newContext();
  const nia = await other.newPage();
  const problems = watch(nia);
  await nia.goto(url);
  await expect(nia.getByTestId('invite-summary')).toContainText('Team Shop');
  await expect(nia.getByTestId('invite-summary')).toContainText('nia@example.com');
  await nia.getByTestId('invite-name').fill('Nia New');
  await nia.getByTestId('invite-password').fill(PASSWORD);
  await nia.screenshot({ path: testInfo.outputPath('invitation-page.png') });
  await nia.getByTestId('invite-create').click();
  await nia.waitForURL(`${server.url}/`);
  await expect(nia.getByTestId('tenant-name')).toHaveText('Team Shop');
  await expect(nia.getByTestId('user-name')).toHaveText('Nia New');
  await expect(nia.getByTestId('bell')).toBeVisible();
  await expect(nia.getByTestId('connection-status')).toHaveAttribute('data-state', 'connected');

  // The owner's Members page shows Nia, and the invitation is no longer pending, without a reload.
  await expect(page.locator('[data-testid="member-row"][data-email="nia@example.com"]')).toHaveCount(1);
  await expect(page.getByTestId('invitations-empty')).toBeVisible();
  await page.screenshot({ path: testInfo.outputPath('joined.png'), fullPage: true });

  // The link works once.
  await nia.goto(url);
  await expect(nia.getByTestId('invite-invalid')).toContainText('used, revoked or has expired');
  expect(problems).toEqual([]);
  await other.close();
});

test('a password changed on the Account page ends the session of the other browser', async ({ page, browser }, testInfo) => {
  const other = await browser.newContext();
  const phone = await other.newPage();
  const problems = watch(phone);
  await signIn(phone, 'sam@example.com');
  await expect(phone.getByTestId('connection-status')).toHaveAttribute('data-state', 'connected');

  await signIn(page, 'sam@example.com');
  await page.getByTestId('user-name').click();
  await page.waitForURL(`${server.url}/account`);
  await expect(page.getByTestId('session-row')).toHaveCount(2);
  await expect(page.locator('[data-testid="session-row"][data-current="true"]')).toHaveCount(1);
  await page.getByTestId('current-password').fill('not my password');
  await page.getByTestId('new-password').fill('a brand new password');
  await page.getByTestId('change-password').click();
  await expect(page.getByTestId('account-error')).toContainText('currentPassword');
  const sessionCookie = async () => (await page.context().cookies()).find((c) => c.name.endsWith('hookbell_session'))?.value;
  const oldToken = await sessionCookie();
  // Every state the live channel goes through from here.
  await page.evaluate(() => {
    const states: string[] = ((window as any).__states = []);
    new MutationObserver(() => {
      const state = document.querySelector('[data-testid="connection-status"]')?.getAttribute('data-state') ?? '';
      if (state !== 'connected' || states.length > 0) if (states[states.length - 1] !== state) states.push(state);
    }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-state'] });
  });
  await page.getByTestId('current-password').fill(PASSWORD);
  await page.getByTestId('change-password').click();
  await expect(page.getByTestId('account-notice')).toContainText('1 other session');
  await expect(page.getByTestId('session-row')).toHaveCount(1);
  // This browser goes on with a new session token (its old one ended with the others): its live
  // channel, opened with the old one, closes and comes back with the new cookie.
  expect(await sessionCookie()).not.toEqual(oldToken);
  await expect
    .poll(() => page.evaluate(() => (window as any).__states as string[]))
    .toEqual(expect.arrayContaining(['disconnected', 'connected']));
  await expect(page.getByTestId('connection-status')).toHaveAttribute('data-state', 'connected');
  await page.screenshot({ path: testInfo.outputPath('account.png'), fullPage: true });

  // The other browser's live channel closes at once, and its next page load is signed out.
  await expect(phone.getByTestId('connection-status')).not.toHaveAttribute('data-state', 'connected');
  await phone.reload();
  await expect(phone.locator('.signin-link')).toBeVisible();
  // This browser stays signed in.
  await page.reload();
  await expect(page.getByTestId('account-email')).toContainText('sam@example.com');
  expect(problems).toEqual([]);
  await other.close();
});
