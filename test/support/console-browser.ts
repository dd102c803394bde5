import type { Page } from 'playwright-core';
import { cliActor } from '../../src/modules/audit/audit.service.ts';
import type { StaffRole } from '../../src/modules/staff/staff.tables.ts';
import { totpCode } from './console-client.ts';
import type { TestServer } from './test-server.ts';
import { uniqueName } from './test-target.ts';

/**
 * A new staff member with `role`, signed in to the console in `page` through the sign-in form:
 * password, then (admins) the second-factor enrolment with a code made from the secret the page
 * shows, on the test server's clock. Ends on the console home.
 */
export async function signInStaffInBrowser(server: TestServer, page: Page, role: StaffRole = 'admin') {
  const email = `${uniqueName(role)}@nova.example`;
  const { staff, password } = await server.services.staff.create(cliActor, { email, role });
  await page.goto('/console/signin');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  let totpSecret: string | null = null;
  if (role === 'admin') {
    await page.getByRole('heading', { name: 'Set up your second factor' }).waitFor();
    totpSecret = (await page.getByTestId('totp-secret').textContent())!.trim();
    await page.getByLabel('Code from your authenticator app').fill(await totpCode(server, totpSecret));
    await page.getByRole('button', { name: 'Confirm and sign in' }).click();
  }
  await page.getByRole('heading', { name: 'Nova Console', exact: true }).waitFor();
  return { staffId: staff.id, email, password, totpSecret };
}
