/**
 * Finds the verification code in an incoming SMS so the customer sees "482913" next to the full
 * text. Codes are 4–8 digits; alphanumeric codes are out of scope (the full text is always shown).
 *
 * How it works, in three steps:
 *  1. Convert Eastern Arabic and full-width digits to ASCII, then mask every span that contains
 *     digits but is not a code (URLs, app hashes, phone numbers, dates, amounts, decimals),
 *     replacing it with a filler of the same length so positions stay those of the original.
 *  2. Collect candidates: 4–8 digit runs, and grouped forms such as "123-456" or "123 456".
 *  3. Score each candidate by how close it is to a keyword ("code", "код", "验证码", …) or a
 *     known prefix ("G-", "FB-", "<#>"), and return the closest; with no keyword anywhere near a
 *     number, return the first plausible one, because a message sent to a number rented for
 *     verification is almost always a code.
 *
 * All regexes are compiled once here, and none can backtrack over an unbounded span, so a long
 * or hostile message costs linear time (see the cost tests).
 */

/** Longest gap (characters) between a keyword and its code: "código de verificación de Uber es ". */
const maxKeywordGap = 40;
/** Extra distance when a sentence ends between keyword and number: "…this code. 1234 is…" is a weaker link. */
const sentenceBreakPenalty = 30;
/** Filler for masked spans: neither a digit, a letter, a space nor a dash, so it never joins or prefixes a code. */
const filler = '\u00b7';

// ---------------------------------------------------------------------------------------------
// Step 1: spans that contain digits but are never the code. Order matters: URLs and hashes go
// first because they can contain anything; decimals last because amounts and dates are more
// specific forms of them.

const masks: readonly RegExp[] = [
  // Links: the long digit strings in "https://t.me/login/83920174" or "v.whatsapp.com/123456"
  // are ids or the code duplicated for tapping; the code is also in the text around them.
  /\b(?:https?:\/\/|www\.)\S+/gi,
  /\b[a-z0-9-]{1,63}(?:\.[a-z0-9-]{1,63}){0,8}\.[a-z]{2,24}\/\S*/gi,
  // Android SMS Retriever appends an 11-character base64 app hash ("FA+9qCX9VSu"); any such
  // token of letters, digits, "+" and "/" mixing letters and digits is a hash or an id, and the
  // letter-adjacency rule in step 2 does not see digits that sit next to a "+" or "/".
  /(?<!\S)(?=[A-Za-z0-9+/]{0,40}[A-Za-z])(?=[A-Za-z0-9+/]{0,40}\d)[A-Za-z0-9+/]{8,40}={0,2}(?!\S)/g,
  // International phone numbers: "+1 202 555 0100", "+7 (900) 123-45-67" (E.164 allows 15 digits).
  /\+\d(?:[ \-.()]{0,2}\d){6,14}/g,
  // National numbers with a bracketed area code: "8 (800) 555-35-35", "(202) 555-0100".
  /(?:(?<!\d)\d{1,3}[ \-.]?)?\(\d{2,5}\)[ \-.]?\d{2,4}(?:[ \-.]?\d{2,4}){1,3}/g,
  // Dates: "2026-06-02", "2026/6/2", "02.06.2026", "06/02/26" (a date would otherwise pass as
  // the grouped code "20260602" or leave "2026" behind).
  /(?<!\d)\d{4}[-./]\d{1,2}[-./]\d{1,2}(?!\d)/g,
  /(?<!\d)\d{1,2}[-./]\d{1,2}[-./](?:\d{4}|\d{2})(?!\d)/g,
  // Dates with words: "June 2, 2026", "2 June 2026", "2026年6月2日", "2 июня 2026 г.".
  /\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]{0,6}\.?\s{1,3}\d{1,2}(?:st|nd|rd|th)?,?\s{1,3}\d{4}(?!\d)/gi,
  /(?<!\d)\d{1,2}\s{1,3}(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]{0,6}\.?,?\s{1,3}\d{4}(?!\d)/gi,
  /(?<!\d)\d{4}\s?(?:年|г\.|года?(?!\p{L}))/giu,
  // Amounts with the currency first: "$25", "R$ 1.500,00", "Rp 50.000", "€1 200", "USD 2500".
  /(?:R\$|US\$|[$€£¥₹₺₽₴₸₩]|\b(?:Rp|IDR|USD|EUR|GBP|RUB|TRY|TL|BRL|MXN|CNY|RMB|INR)\b)\s?\d{1,12}(?:[  .,]\d{1,3}){0,5}/gi,
  // Amounts and quantities with the unit after: "2500 руб", "100 000 ₽", "1000元", "500 MB",
  // "5000 points" (a 4-digit amount is exactly a code's shape, so the unit decides).
  /(?<!\d)\d{1,12}(?:[  .,]\d{3}){0,5}(?:[.,]\d{1,2})?\s?(?:[$€£¥₹₺₽₴₸₩%元円]|(?:USD|EUR|GBP|RUB|TRY|TL|BRL|MXN|CNY|RMB|INR|IDR|руб\p{L}*|р\.?|грн|тенге|сум|reais|euros?|dollars?|pesos?|lira|rupiah|MB|GB|KB|km|kg|points?|pts|bonus|баллов|бонус\p{L}*)(?![\p{L}\d]))/giu,
  // Any other decimal or thousands-separated number ("1,000", "3.2 km", "1.234.567") is a
  // quantity; verification codes never contain "." or ",".
  /(?<!\d)\d{1,12}(?:[.,]\d{1,12}){1,5}(?!\d)/g,
];

// ---------------------------------------------------------------------------------------------
// Step 2: candidates. A chain is digit groups joined by single dashes or spaces; it must not
// touch an ASCII letter or digit, so ids like "A1234B" or "order1234" are not codes, while
// Chinese or Cyrillic text may touch the code directly ("验证码123456", "код:1234").
// Times ("10:30") need no mask: ":" does not join groups, and no part of a time has 4 digits.
const digitChain = /(?<![A-Za-z0-9])\d{1,40}(?:[- ]\d{1,40}){0,8}(?![A-Za-z0-9])/g;
const chainSeparator = /[- ]/;

// ---------------------------------------------------------------------------------------------
// Step 3: keywords that introduce or follow a code, in the languages our customers receive.
// Most are matched as prefixes or inside words because of compounds and suffixes:
// "Bestätigungscode", "passcode", "kodunuz" (Turkish "your code"), "кодом", "verificación".
const keywords = new RegExp(
  [
    // English, and "code" inside other languages' compounds (German, Dutch, French).
    'code', 'password', 'verif', 'confirm', 'authenticat', 'one[- ]time',
    // Short words that must stand alone: "pin" is inside "shopping", "otp" inside nothing good.
    '(?<!\\p{L})(?:otp|pin|tan|sms[- ]?code)(?!\\p{L})',
    // Spanish, Portuguese, Italian, French.
    'c[óo]digo', 'codice', 'clave', 'contrase[ñn]a', 'senha', 'mot de passe', 'vérif',
    // German.
    'best[äa]tigung', 'kennwort', 'passwort',
    // Turkish ("kod", "kodunuz", "şifre", "doğrulama"), Indonesian/Malay ("kode", "sandi"),
    // Polish/Czech ("kod"); left boundary only, so "Kodak" is the price of "kodunuz".
    '(?<!\\p{L})kod', '[şs]ifre', 'do[ğg]rulama', 'sandi', 'verifikasi',
    // Russian, Ukrainian.
    'код', 'парол', 'подтвержд', 'підтвердж',
    // Chinese (simplified and traditional), Japanese, Korean.
    '验证码', '驗證碼', '校验码', '校驗碼', '动态码', '密码', '認証番号', 'コード', '인증\\s?번호', '코드',
    // Arabic, Persian, Hebrew, Thai, Hindi, Vietnamese.
    'رمز', 'كود', 'کد', 'קוד', 'รหัส', 'कोड', 'mã xác', 'mã otp',
  ].join('|'),
  'giu',
);

// Prefixes that make a number the code even without a keyword: Google's "G-123456",
// Facebook's "FB-12345", and the SMS Retriever marker "<#>" that starts such messages.
const strongPrefix = /(?:(?<![A-Za-z])(?:G|FB)-|<#>\s{0,3})$/;

// Numbers right after these words are references, phone numbers or short codes to write to,
// never the code: "Order #12345", "заказ №5678", "Reply STOP to 89203", "© 2026".
const referencePrefix = new RegExp(
  '(?<!\\p{L})(?:' +
    [
      'order', 'заказ\\p{L}*', 'pedido', 'commande', 'bestellung', 'sipari[şs]\\p{L}*', 'pesanan',
      'ticket', 'invoice', 'receipt', 'ref(?:erence)?', 'tracking', 'booking', 'account',
      'call', 'tel', 'phone', 'телефон\\p{L}*', 'звоните', 'позвоните',
      'stop(?:\\s+all)?\\s+to', '(?:reply|text|send|sms)\\s+\\S{1,12}\\s+to', 'стоп\\s+на',
      '©', 'copyright',
      // A masked card or account shown by its last digits: "card *8841", "карта •8841".
      'card', 'ending(?:\\s+in)?', 'карт\\p{L}*', 'tarjeta', 'cart[ãa]o', 'karte', 'carte', '[*•]',
    ].join('|') +
    ')\\.?[^\\p{L}\\d]{0,3}(?:no\\.?|nr\\.?|number|num|номер|n[º°o]|#|№)?[^\\p{L}\\d]{0,3}$',
  'iu',
);
const referenceLookbehind = 30;

const nonAsciiDigit = /[\u0660-\u0669\u06f0-\u06f9\uff10-\uff19]/g;
const sentenceBreak = /[.!?。！？]\s/;

interface Candidate {
  value: string;
  start: number;
  end: number;
}

interface KeywordSpan {
  start: number;
  end: number;
}

/** Extracts the verification code from an SMS text, or null when there is none. */
export function extractCode(text: string): string | null {
  const masked = maskNonCodes(toAsciiDigits(text));
  const candidates = findCandidates(masked);
  if (candidates.length === 0) return null;

  const keywordSpans: KeywordSpan[] = [];
  for (const match of masked.matchAll(keywords)) {
    keywordSpans.push({ start: match.index, end: match.index + match[0].length });
  }

  // With no keyword near any number, the first one wins: codes come first in messages.
  let best = candidates[0];
  let bestScore = Infinity;
  // Candidates and keywords are both in text order, so the keywords within reach of a candidate
  // form a window that only moves forward: linear work even for a very long message.
  let firstInReach = 0;
  for (const candidate of candidates) {
    while (firstInReach < keywordSpans.length && keywordSpans[firstInReach].end < candidate.start - maxKeywordGap) firstInReach++;
    const score = distanceToMarker(masked, candidate, keywordSpans, firstInReach);
    // Strictly smaller, so on a tie the earlier number wins too.
    if (score < bestScore) {
      best = candidate;
      bestScore = score;
    }
  }
  return best.value;
}

/**
 * Arabic and Persian messages may write the code in Eastern Arabic digits ("٤٨٢١٩٣") and
 * Chinese or Japanese ones in full-width digits ("１２３４"); the customer types ASCII digits,
 * so those are converted first. Each is one UTF-16 unit, so positions do not move.
 */
function toAsciiDigits(text: string): string {
  return text.replace(nonAsciiDigit, (digit) => {
    const code = digit.charCodeAt(0);
    const zero = code >= 0xff10 ? 0xff10 : code >= 0x06f0 ? 0x06f0 : 0x0660;
    return String(code - zero);
  });
}

function maskNonCodes(text: string): string {
  let result = text;
  for (const mask of masks) {
    result = result.replace(mask, (span) => filler.repeat(span.length));
  }
  return result;
}

function findCandidates(masked: string): Candidate[] {
  const candidates: Candidate[] = [];
  for (const match of masked.matchAll(digitChain)) {
    const chain = match[0];
    const start = match.index;
    const before = masked.slice(Math.max(0, start - referenceLookbehind), start);
    // A reference number ("Order #12345") is dropped outright rather than scored lower, so the
    // real code wins even when the reference is closer to the word "code".
    if (referencePrefix.test(before)) continue;

    const groups = chain.split(chainSeparator);
    if (groups.length === 1) {
      // Runs longer than 8 digits are phone numbers, ids or card numbers, never codes.
      if (chain.length >= 4 && chain.length <= 8) candidates.push({ value: chain, start, end: start + chain.length });
      continue;
    }

    const total = groups.reduce((sum, group) => sum + group.length, 0);
    const allShort = groups.every((group) => group.length <= 4);
    // "202 555 0100", "8 800 555 35 35": many short groups adding up past 8 digits are a phone
    // number written without "+"; none of its pieces is a code.
    if (allShort && total > 8) continue;
    if (allShort && isGroupedCode(chain, groups, total)) {
      candidates.push({ value: groups.join(''), start, end: start + chain.length });
      continue;
    }
    // Otherwise the chain is separate numbers side by side ("123456 10 minutes", "1234 5 min"):
    // each 4–8 digit group stands on its own.
    let offset = start;
    for (const group of groups) {
      if (group.length >= 4 && group.length <= 8) candidates.push({ value: group, start: offset, end: offset + group.length });
      offset += group.length + 1;
    }
  }
  return candidates;
}

/**
 * "123-456" (WhatsApp), "123 456" (Instagram), "1234-5678", "12 34 56": one code written in
 * groups. The separator must be the same throughout. A dash joins any groups of 2–4 digits;
 * a space joins groups of 3–4 digits, or groups of one equal length, because "1234 15 min" is
 * a code followed by a duration, not the code "123415".
 */
function isGroupedCode(chain: string, groups: string[], total: number): boolean {
  if (total < 4 || total > 8) return false;
  const usesDash = chain.includes('-');
  const usesSpace = chain.includes(' ');
  if (usesDash && usesSpace) return false;
  if (!groups.every((group) => group.length >= 2)) return false;
  if (usesDash) return true;
  return groups.every((group) => group.length >= 3 || group.length === groups[0].length);
}

/**
 * How strongly the text points at this number: 0 right after "G-"/"FB-"/"<#>", otherwise the
 * number of characters to the nearest keyword before or after it, Infinity when none is near.
 * Since the closest number wins, "Your code is 4821. Store 5512" gives 4821 without any rule
 * about numbers in between, and small numbers in the gap do not hurt ("code (valid 5 min): 7731").
 */
function distanceToMarker(masked: string, candidate: Candidate, keywordSpans: KeywordSpan[], firstInReach: number): number {
  if (strongPrefix.test(masked.slice(Math.max(0, candidate.start - 6), candidate.start))) return 0;
  let best = Infinity;
  for (let index = firstInReach; index < keywordSpans.length; index++) {
    const keyword = keywordSpans[index];
    if (keyword.start > candidate.end + maxKeywordGap) break;
    let gap: string;
    if (keyword.end <= candidate.start) gap = masked.slice(keyword.end, candidate.start);
    else if (keyword.start >= candidate.end) gap = masked.slice(candidate.end, keyword.start);
    else continue;
    if (gap.length > maxKeywordGap) continue;
    const distance = gap.length + (sentenceBreak.test(gap) ? sentenceBreakPenalty : 0);
    if (distance < best) best = distance;
  }
  return best;
}
