import { generate } from 'otplib';
import { cliActor } from '../../src/modules/audit/audit.service.ts';
import type { StaffRole } from '../../src/modules/staff/staff.tables.ts';
import { type WebClient, webClient } from '../web/web-client.ts';
import { recordSecret } from './recorded-secrets.ts';
import type { TestServer } from './test-server.ts';
import { uniqueName } from './test-target.ts';

/** A client of the console API (/api/console): cookies, the console CSRF header, server-sent events. */
export const consoleClient = (baseUrl: string): WebClient => webClient(baseUrl, { apiBase: '/api/console', csrfCookie: 'nova_console_csrf' });

export interface SignedInStaff {
  client: WebClient;
  staffId: number;
  email: string;
  password: string;
  /** The TOTP secret (admins enrol on first sign-in), to make codes in later sign-ins. */
  totpSecret: string | null;
}

/** The current 6-digit code of `secret` on the test server's clock. */
export function totpCode(server: TestServer, secret: string): Promise<string> {
  return generate({ secret, epoch: Math.floor(server.clock.now().getTime() / 1000) });
}

/**
 * A new staff member with `role`, signed in to the console as the browser would: password, then
 * (admins) second-factor enrolment with a code from the enrolment secret.
 */
export async function signInStaff(server: TestServer, role: StaffRole = 'admin'): Promise<SignedInStaff> {
  const email = `${uniqueName(role)}@nova.example`;
  const { staff, password } = await server.services.staff.create(cliActor, { email, role });
  recordSecret(password);
  const client = consoleClient(server.url);
  await client.start();
  const signIn = await client.post('/signin', { email, password });
  if (signIn.status !== 200) throw new Error(`staff sign-in failed: ${signIn.status} ${JSON.stringify(signIn.body)}`);
  let totpSecret: string | null = null;
  if (signIn.body.data.stage === 'totp_enroll') {
    const enrol = await client.post('/totp/enroll');
    totpSecret = enrol.body.data.secret as string;
    const verify = await client.post('/totp/verify', { code: await totpCode(server, totpSecret) });
    if (verify.status !== 200) throw new Error(`TOTP enrolment failed: ${verify.status} ${JSON.stringify(verify.body)}`);
  }
  return { client, staffId: staff.id, email, password, totpSecret };
}
