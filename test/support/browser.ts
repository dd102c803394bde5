import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import type { Database } from '../../src/db/database.ts';
import { outboxReader, signUpToken } from '../web/web-client.ts';

/**
 * Browser tests drive Debian's chromium (`apt-get install chromium`; .ci/run installs it) with
 * playwright-core against a real server from startTestServer. One browser per test file.
 */
export const chromiumPath = process.env.NOVA_CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(chromiumPath)) {
    throw new Error(`No Chromium at ${chromiumPath}: install it (apt-get install -y chromium) or set NOVA_CHROMIUM_PATH`);
  }
  return chromium.launch({
    executablePath: chromiumPath,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** A fresh browser profile (own cookies and localStorage) on the test server, clipboard allowed. */
export async function newVisitor(browser: Browser, baseURL: string, options: { width?: number; height?: number } = {}): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({
    baseURL,
    viewport: { width: options.width ?? 1280, height: options.height ?? 860 },
    deviceScaleFactor: 1,
  });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: baseURL });
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  // A page error is a bug in the website: fail loudly instead of timing out on a blank page.
  page.on('pageerror', (error) => {
    throw error;
  });
  return { context, page };
}

const screenshotDir = path.resolve(import.meta.dirname, '../../docs/screenshots');

/**
 * Saves docs/screenshots/NAME.png when NOVA_SCREENSHOTS=1 (`npm run screenshots`), so a plain
 * test run leaves the committed pictures alone.
 */
export async function screenshot(page: Page, name: string, options: { fullPage?: boolean } = {}): Promise<void> {
  if (process.env.NOVA_SCREENSHOTS !== '1') return;
  mkdirSync(screenshotDir, { recursive: true });
  await page.screenshot({ path: path.join(screenshotDir, `${name}.png`), fullPage: options.fullPage ?? false, animations: 'disabled', caret: 'hide' });
}

let counter = 0;
export function uniqueEmail(prefix: string): string {
  return `${prefix}.${process.pid}.${Date.now().toString(36)}${++counter}@example.com`;
}

/**
 * Signs up through the form, opens the link of the confirmation email (read from the server's
 * outbox, as the customer reads their inbox), finishes the sign-up and waits for the dashboard.
 */
export async function signUpInBrowser(page: Page, server: { database: Database }, options: { email?: string; password?: string; company?: string } = {}) {
  const email = options.email ?? uniqueEmail('owner');
  const password = options.password ?? 'correct horse battery';
  await page.goto('/signup');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  if (options.company) await page.getByLabel('Company name (optional)').fill(options.company);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.getByRole('heading', { name: 'Check your email' }).waitFor();
  const token = signUpToken(await outboxReader(server.database)(email));
  await page.goto(`/confirm-signup?token=${token}`);
  await page.getByRole('button', { name: 'Create my account' }).click();
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
  const session = await page.evaluate(async () => (await (await fetch('/api/web/session')).json()).data.account);
  return { email, password, account: session as { id: number; company_id: number; role: string } };
}
