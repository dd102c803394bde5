import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Services } from './app.ts';
import { demoCountries, demoPrices, demoServices } from './modules/catalog/demo-catalog.ts';
import { AppError } from './http/errors.ts';
import { parseUsd } from './modules/billing/money.ts';
import { seedDemoRentals } from './modules/rentals/demo-rentals.ts';

export interface DemoLogin {
  email: string;
  password: string;
  apiKey: string;
  companyId: number;
}

const demoEmail = 'demo@nova-sms.local';
const demoPassword = 'nova-demo-2026';

/**
 * Seeds the demo catalog and supply (idempotent), and on an empty database a demo company with
 * 10 USD. The demo login is kept in the data folder so every start can print it again.
 */
export async function seedDemo(services: Services, dataDir: string): Promise<DemoLogin | null> {
  for (const service of demoServices) await services.catalog.upsertService(service);
  for (const country of demoCountries) await services.catalog.upsertCountry(country);
  for (const [countryId, byService] of Object.entries(demoPrices)) {
    for (const [serviceCode, price] of Object.entries(byService)) {
      await services.catalog.setPrice({ serviceCode, countryId: Number(countryId), price });
    }
  }
  await services.supply.seedDemoSupply(demoCountries.map((c) => c.id));
  await seedDemoRentals({ rentals: services.rentals, rentalStock: services.rentalStock, countryIds: demoCountries.map((c) => c.id) });

  const credentialsFile = path.join(dataDir, 'demo-login.json');
  if ((await services.accounts.countCompanies()) === 0) {
    const created = await services.accounts
      .createCompany({ name: 'Demo company', ownerEmail: demoEmail, password: demoPassword })
      // Several instances starting together on one empty database all get here; the demo owner's
      // email is unique, so one creates the company and the others go on without it.
      .catch((error) => {
        if (error instanceof AppError && error.code === 'conflict') return null;
        throw error;
      });
    if (created) {
      await services.billing.credit({ companyId: created.companyId, amount: parseUsd('10')!, kind: 'topup', reason: 'Demo credit' });
      const login: DemoLogin = { email: demoEmail, password: demoPassword, apiKey: created.apiKey, companyId: created.companyId };
      writeFileSync(credentialsFile, JSON.stringify(login, null, 2), { mode: 0o600 });
      return login;
    }
  }
  try {
    return JSON.parse(readFileSync(credentialsFile, 'utf8')) as DemoLogin;
  } catch {
    return null;
  }
}
