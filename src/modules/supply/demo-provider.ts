import { randomInt } from 'node:crypto';

/**
 * The built-in demo supply: fake SIMs in fictional number ranges, which "receive" a realistic
 * SMS a few seconds after purchase, so the embedded default shows the whole flow end to end.
 * It is labelled "demo" everywhere it shows and is on only with NOVA_DEMO.
 */
export const demoProviderName = 'demo';

/** Number ranges reserved for fiction/drama, so no demo number can belong to a real person. */
const demoRanges: Record<number, { prefix: string; first: number; count: number; width: number }> = {
  // NANP 555-01XX is reserved for fictional use; 240 numbers make the spec's `"available": 240` true.
  6: { prefix: '+1202555', first: 100, count: 240, width: 4 },
  // Ofcom's drama range 07700 900000–900999.
  16: { prefix: '+447700900', first: 0, count: 200, width: 3 },
  // ARCEP's fiction range 06 39 98 00 00 – 06 39 98 99 99.
  78: { prefix: '+3363998', first: 0, count: 200, width: 4 },
};

export function demoNumbers(countryIds: number[]): { e164: string; countryId: number; operator: string }[] {
  return countryIds.flatMap((countryId) => {
    const range = demoRanges[countryId];
    if (!range) return [];
    return Array.from({ length: range.count }, (_, i) => ({
      e164: range.prefix + String(range.first + i).padStart(range.width, '0'),
      countryId,
      operator: i % 2 === 0 ? 'demo-mobile' : 'demo-telecom',
    }));
  });
}

const messageTemplates: Record<string, (code: string) => { from: string; text: string }> = {
  tg: (c) => ({ from: 'Telegram', text: `Telegram code: ${c}\n\nYou can also tap on this link to log in:\nhttps://t.me/login/${c}` }),
  wa: (c) => ({ from: 'WhatsApp', text: `Your WhatsApp code: ${c.slice(0, 3)}-${c.slice(3)}\nDon't share this code with others` }),
  go: (c) => ({ from: 'Google', text: `G-${c} is your Google verification code.` }),
  fb: (c) => ({ from: 'Facebook', text: `FB-${c} is your Facebook confirmation code` }),
  ig: (c) => ({ from: 'Instagram', text: `Use ${c.slice(0, 3)} ${c.slice(3)} to verify your Instagram account.` }),
  ds: (c) => ({ from: 'Discord', text: `Your Discord verification code is: ${c}` }),
  lf: (c) => ({ from: 'TikTok', text: `[TikTok] ${c} is your verification code, valid for 5 minutes. To keep your account safe, never forward this code.` }),
  ub: (c) => ({ from: 'Uber', text: `Your Uber code: ${c.slice(0, 4)}. Never share this code. Reply STOP ALL to unsubscribe.` }),
  mm: (c) => ({ from: 'Microsoft', text: `Use ${c} as Microsoft account security code` }),
  am: (c) => ({ from: 'Amazon', text: `${c} is your Amazon OTP. Do not share it with anyone.` }),
};

/** A realistic verification SMS for the service, with its code (5 digits for Telegram, 6 otherwise). */
export function demoMessage(serviceCode: string): { from: string; text: string } {
  const code = String(randomInt(serviceCode === 'tg' ? 10_000 : 100_000, serviceCode === 'tg' ? 100_000 : 1_000_000));
  const template = messageTemplates[serviceCode] ?? ((c: string) => ({ from: 'Verify', text: `Your verification code is ${c}` }));
  return template(code);
}
