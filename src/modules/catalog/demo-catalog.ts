/**
 * The demo catalog seeded on an empty embedded database. It makes the spec's examples true:
 * service `tg`, country 6 = United States (+1), price 0.50 USD.
 */
export const demoServices = [
  { code: 'tg', name: 'Telegram' },
  { code: 'wa', name: 'WhatsApp' },
  { code: 'go', name: 'Google' },
  { code: 'fb', name: 'Facebook' },
  { code: 'ig', name: 'Instagram' },
  { code: 'ds', name: 'Discord' },
  { code: 'lf', name: 'TikTok' },
  { code: 'ub', name: 'Uber' },
  { code: 'mm', name: 'Microsoft' },
  { code: 'am', name: 'Amazon' },
];

export const demoCountries = [
  { id: 6, name: 'United States', iso: 'US', dialPrefix: '1' },
  { id: 16, name: 'United Kingdom', iso: 'GB', dialPrefix: '44' },
  { id: 78, name: 'France', iso: 'FR', dialPrefix: '33' },
];

/** Price in 1/10000 USD per service, by country id. */
export const demoPrices: Record<number, Record<string, number>> = {
  6: { tg: 5000, wa: 7500, go: 3000, fb: 2500, ig: 2500, ds: 2000, lf: 3500, ub: 2000, mm: 1500, am: 2000 },
  16: { tg: 6000, wa: 9000, go: 4000, fb: 3000, ig: 3000, ds: 2500, lf: 4000, ub: 2500, mm: 2000, am: 2500 },
  78: { tg: 5500, wa: 8000, go: 3500, fb: 2800, ig: 2800, ds: 2200, lf: 3800, ub: 2200, mm: 1800, am: 2200 },
};
