import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { extractCode } from '../../../src/modules/supply/code-extraction.ts';

/** [SMS text as a provider delivers it, the code the customer must see (null: no code)]. */
type Case = readonly [text: string, expected: string | null];

const services: readonly Case[] = [
  // Telegram
  ['Telegram code: 12345. Do not give this code to anyone, even if they say they are from Telegram!', '12345'],
  ['Telegram code 54321\n\nYou can also tap on this link to log in:\nhttps://t.me/login/54321', '54321'],
  ['Код подтверждения Telegram: 67890. Никому не давайте код, даже если его требуют от имени Telegram!', '67890'],
  ['<#> Telegram code: 24680\nFA+9qCX9VSu', '24680'],
  // WhatsApp
  ["Your WhatsApp code: 123-456\nYou can also tap on this link to verify your phone: v.whatsapp.com/123456\nDon't share this code with others", '123456'],
  ['<#> Your WhatsApp Business code 987-654\nDon\'t share this code with others\n4sgLq1p5sV6', '987654'],
  ['Tu código de WhatsApp: 246-813\nNo compartas este código con nadie', '246813'],
  ['Код WhatsApp: 135-790. Не сообщайте этот код другим', '135790'],
  // Google
  ['G-123456 is your Google verification code.', '123456'],
  ['<#> G-482913 is your Google verification code. FA+9qCX9VSu', '482913'],
  ['G-736201 – это ваш код подтверждения Google.', '736201'],
  ['G-551904 es tu código de verificación de Google.', '551904'],
  // Facebook, Instagram
  ['FB-12345 is your Facebook confirmation code', '12345'],
  ['48213 is your Facebook password reset code', '48213'],
  ["123 456 is your Instagram code. Don't share it.", '123456'],
  ['Use 482 913 to verify your Instagram account.', '482913'],
  ['<#> 835 112 is your Instagram code. Don\'t share it. bL3x+f9aWQz', '835112'],
  // TikTok
  ['[TikTok] 123456 is your verification code, valid for 5 minutes. To keep your account safe, never forward this code.', '123456'],
  ['[TikTok] 418520 es tu código de verificación, válido por 5 minutos.', '418520'],
  // Uber
  ['Your Uber code: 1234. Never share this code. Reply STOP ALL to 89203 to unsubscribe.', '1234'],
  ['Tu código de Uber es 5831. Nunca compartas este código. Responde STOP ALL al 89203 para darte de baja.', '5831'],
  ['Seu código do Uber é 7264. Não compartilhe este código com ninguém.', '7264'],
  // Microsoft
  ['Use 2468 as Microsoft account security code', '2468'],
  ['Microsoft account security code: 9137', '9137'],
  ['Use 1357246 as your Microsoft account password reset code', '1357246'],
  // Amazon
  ["123456 is your Amazon OTP. Don't share it with anyone.", '123456'],
  ['Amazon: Your code is 704215. Don\'t share it. If you didn\'t request it, call +1 206 266 1000.', '704215'],
  // Apple
  ["Your Apple Account code is: 845201. Don't share it with anyone.\n\n@apple.com #845201 %apple.com", '845201'],
  ['Apple ID Code: 330917. Не сообщайте этот код никому.', '330917'],
  // Discord
  ['Your Discord security code is: 560811', '560811'],
  ['Your Discord verification code is 284620. Do not share it.', '284620'],
  // Viber
  ['Your Viber code: 712093', '712093'],
  ['Ваш код для Viber: 318204. Не сообщайте его никому.', '318204'],
  // WeChat
  ['[WeChat] Your verification code is 904312. It will expire in 10 minutes.', '904312'],
  ['【微信】验证码：583920，用于登录微信，5分钟内有效。请勿泄露给他人。', '583920'],
  ['WeChat verification code (482193) may only be used to verify your phone number.', '482193'],
  // VK
  ['VK: 12345 — ваш код для входа. Никому его не сообщайте.', '12345'],
  ['Код подтверждения VK ID: 483920. Не сообщайте его никому, даже сотрудникам VK.', '483920'],
  // Yandex
  ['Ваш код подтверждения: 563782. Наберите его в поле ввода.', '563782'],
  ['Код для входа в Яндекс ID: 804531. Никому его не говорите.', '804531'],
  ['Yandex Go: 4821 — код для входа. Заказ такси: 8 800 234-24-80', '4821'],
];

const languages: readonly Case[] = [
  // Spanish
  ['Tu código de verificación es 739104. No lo compartas con nadie.', '739104'],
  ['Su clave de acceso es 5829. Válida por 10 minutos.', '5829'],
  // Portuguese
  ['Seu código de verificação é 448201. Não compartilhe com ninguém.', '448201'],
  ['Nubank: sua senha temporária é 6102', '6102'],
  // German
  ['Ihr Bestätigungscode lautet: 902114', '902114'],
  ['Dein Verifizierungscode: 371906. Gib ihn nicht weiter.', '371906'],
  ['Ihre TAN lautet 558213 für die Überweisung von 250,00 EUR.', '558213'],
  // French
  ['Votre code de vérification est : 640298', '640298'],
  ['Votre code Leboncoin : 2891. Ne le communiquez à personne.', '2891'],
  // Italian
  ['Il tuo codice di verifica è 815530. Non condividerlo con nessuno.', '815530'],
  // Turkish
  ['Doğrulama kodunuz: 447120. Bu kodu kimseyle paylaşmayın.', '447120'],
  ['Trendyol şifreniz: 8391. Kimseyle paylaşmayınız.', '8391'],
  // Indonesian
  ['Kode verifikasi Anda adalah 230611. Jangan berikan kode ini kepada siapa pun.', '230611'],
  ['JANGAN BERIKAN KODE INI. Kode OTP Gojek Anda: 7720', '7720'],
  // Chinese
  ['【淘宝】您的验证码是 649201，5分钟内有效，请勿泄露。', '649201'],
  ['【支付宝】验证码886102，您正在登录，若非本人操作，请忽略。', '886102'],
  ['【抖音】驗證碼：550183，10分鐘內有效。', '550183'],
  // Arabic
  ['رمز التحقق الخاص بك هو 482019', '482019'],
  ['482019 هو رمز التحقق الخاص بك. لا تشاركه مع أحد.', '482019'],
  ['رمز التحقق: ٤٨٢١٩٣', '482193'],
  ['کد تایید شما: ۵۵۲۰۱۸', '552018'],
  ['【京东】验证码：５８２０１３，请勿告诉他人。', '582013'],
  // Others
  ['인증번호 [682013]을 입력해주세요.', '682013'],
  ['認証コード：440921 このコードは10分間有効です。', '440921'],
  ['Twój kod weryfikacyjny to 601442', '601442'],
  ['Mã xác minh của bạn là 921054', '921054'],
];

const severalNumbers: readonly Case[] = [
  ['Order 55512 is on its way. Use code 4821 to pick it up.', '4821'],
  ['Your order #889120 is ready. Your pickup code: 7731', '7731'],
  ['Заказ №12345678 оформлен. Код для получения: 5521', '5521'],
  ['Bank: 3 attempts left. Your one-time password is 550912, valid for 300 seconds.', '550912'],
  ['Your code is 482913. It expires in 10 minutes. Ref 55512.', '482913'],
  ['Code 1234 expires in 15 min', '1234'],
  ['Your code: 123456 10 min', '123456'],
  ['Payment of $25.00 to Store 1234: confirm with code 889102', '889102'],
  ['Перевод 2500 руб. Код подтверждения: 7716. Не сообщайте код никому.', '7716'],
  ['Pago de 1.500,00 MXN. Tu código: 3390', '3390'],
  ['Your appointment on 2026-06-02 at 10:30 is confirmed. Code: 8810', '8810'],
  ['Call +1 202 555 0100 if this wasn\'t you. Your code is 4417.', '4417'],
  ['Your verification code is 662031. Questions? Call (202) 555-0100.', '662031'],
  ['Support: 8 (800) 555-35-35. Ваш код: 9052', '9052'],
  ['Use 30 918 ... no, your PIN is 4410', '4410'],
  ['Your PIN: 8823. Text STOP to 72166 to opt out.', '8823'],
  ['Hotel 2201 check-in code: 5510', '5510'],
  ['12345 is your code for order 99887766', '12345'],
  ['Your verification code for card *8841 is 7731.', '7731'],
  ['Код подтверждения операции по карте •8841: 2290', '2290'],
  ['Support line 8800 works 24/7. Your login code (valid 5 min): 7731', '7731'],
  ['Hi from store 5512! 448201 is your verification code.', '448201'],
  ['Thanks for verifying. 5512 is your table; 7731 is your login code.', '7731'],
  ['Hola, 5512 es tu número de cliente. Tu código de acceso a la aplicación es 7731', '7731'],
  ['Sign-in request from device 8841. G-551024', '551024'],
  ['Your Lyft code is 12 34 56', '123456'],
  ['Код 4821 15 мин.', '4821'],
  ['Code 4821 15-20 min', '4821'],
];

const noCode: readonly Case[] = [
  ['Welcome to Uber! Reply STOP to unsubscribe.', null],
  ['Your balance is $25.00. Call +1 202 555 0100 for help.', null],
  ['Your ride arrives at 10:30 on 2026-06-02.', null],
  ['Your package is out for delivery: https://track.example.com/p/83920174552', null],
  ['Tracking 1Z999AA10123456784 updated.', null],
  ['Order #48213 has shipped.', null],
  ['Call us at 202-555-0100 or +44 20 7946 0958.', null],
  ['You received 1 000 000 ₽ and 2500 points.', null],
  ['Account 1234567890123 credited.', null],
  ['<#> Your app code is AB12CD FA+9qCX9VSu', null],
  ['Your WhatsApp code is being sent. Please wait.', null],
  ['Payment 1,250.00 USD on 06/02/2026 at 23:59:59', null],
  ['Open https://t.me/login/55555 to log in on a new device.', null],
  ['Confirm your email: mail.example.com/c/20931', null],
  ['<#> Your app code is AB12CD Xy/5512+QwE', null],
  ["If this wasn't you, call +44 7700 900123.", null],
  ['Questions? Our team: (202) 555-0100, Mon–Fri.', null],
  ['Your visit on June 2, 2026 is booked.', null],
  ['Your visit on 2 June 2026 is booked.', null],
  ['您的订单已于2026年6月2日发货。', null],
  ['You paid $2500 to John.', null],
  ['Transfer Rp 50000 berhasil.', null],
  ['Balance: 12345.67', null],
  ['Meeting at 10:30, room 12:45.', null],
  ['Verify here: https://go.example.com?id=55555', null],
  ['Not you? Contact +44 7700 900123.', null],
  ['Flight SU1234 departs at 10:30.', null],
  ['Your number 123456789 is active.', null],
  ['Покупка 1500р в PYATEROCHKA. Баланс: 2300 рублей', null],
  ['', null],
];

function runTable(title: string, cases: readonly Case[]): void {
  describe(title, () => {
    for (const [text, expected] of cases) {
      it(`${expected === null ? 'finds no code in' : `finds ${expected} in`} ${JSON.stringify(text)}`, () => {
        assert.equal(extractCode(text), expected);
      });
    }
  });
}

runTable('extractCode: service messages', services);
runTable('extractCode: other languages', languages);
runTable('extractCode: several numbers, the code wins', severalNumbers);
runTable('extractCode: messages without a code', noCode);

describe('extractCode: cost', () => {
  // Every SMS passes through here; a regex that backtracks quadratically would let one odd
  // message stall delivery for seconds. These inputs took over 4 s with unbounded patterns.
  const hostile: readonly Case[] = [
    ['1-'.repeat(50_000), null],
    ['1.'.repeat(50_000), null],
    ['1 234 567 890 12.5 $3 +1 '.repeat(2_000) + 'code 4821', '4821'],
    ['code 1234 '.repeat(50_000), '1234'],
  ];
  for (const [text, expected] of hostile) {
    it(`answers within a second for ${text.length} characters of ${JSON.stringify(text.slice(0, 12))}…`, () => {
      const started = performance.now();
      assert.equal(extractCode(text), expected);
      assert.ok(performance.now() - started < 1000, `took ${Math.round(performance.now() - started)} ms`);
    });
  }
});
