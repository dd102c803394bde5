#!/usr/bin/env node
/**
 * `nova-sms`: the Nova SMS API from a shell. NOVA_API_KEY is your key, NOVA_API_URL the server
 * (default http://localhost:3000). Exit codes: 0 ok, 1 API error, 2 usage error, 3 no code (or rental SMS) in time.
 */
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import {
  type Activation,
  type ActivationStatus,
  type ActivationWithMessages,
  NovaActivationEndedError,
  NovaClient,
  NovaError,
  NovaNetworkError,
  NovaRentalEndedError,
  NovaRentalTimeoutError,
  NovaTimeoutError,
  NovaUnexpectedResponseError,
  type Rental,
  type RentalStatus,
  type RentalSummary,
  type ReportReason,
} from './index.ts';

export const exitCodes = { ok: 0, apiError: 1, usage: 2, timeout: 3 } as const;

const usage = `Usage: nova-sms <command> [options]

Commands:
  balance                              your company balance
  services                             services you can buy numbers for
  countries                            countries by id
  prices SERVICE [COUNTRY]             price and stock
  buy SERVICE COUNTRY [--wait]         buy a number (--operator X, --max-price USD, --timeout S)
  get ID [--wait]                      an activation and its messages
  list [--status S] [--limit N]        your activations, newest first (--offset N)
  cancel ID                            cancel a waiting activation (refunded)
  complete ID                          complete an activation after its SMS
  reuse ID [--wait]                    the number of a completed activation again, as a new activation
  report ID REASON [--note TEXT]       report a waiting activation's number: used or blocked (cancelled
                                       and refunded at once), no_sms or other (recorded)

Rentals (a number by the hour: every SMS to it, for every service):
  rental-prices [COUNTRY]              price per hour and per day, numbers free to rent
  rent COUNTRY HOURS [--wait]          rent a number for 1-720 hours (--operator X); --wait for its first SMS
  rentals [--status S] [--limit N]     your rentals, newest first (--offset N)
  rental ID [--wait]                   a rental and its messages; --wait for its next SMS
  extend ID HOURS                      extend an active rental (charged now)
  rental-cancel ID                     cancel a rental before its first SMS, soon after renting (refunded)
  rental-finish ID                     end a rental early (no refund)

Options:
  --json        machine-readable output on stdout
  --wait        wait for the SMS code, or a rental's next SMS (long-poll), up to --timeout seconds (default 600)
  -h, --help    this help

Environment: NOVA_API_KEY (required), NOVA_API_URL (default http://localhost:3000)
Exit codes: 0 ok, 1 API error, 2 usage error, 3 timed out waiting for the code or SMS
`;

class UsageError extends Error {}

interface Io {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

const statuses: readonly ActivationStatus[] = ['waiting', 'sms_received', 'completed', 'cancelled', 'expired'];
const rentalStatuses: readonly RentalStatus[] = ['active', 'finished', 'cancelled', 'expired'];
const reportReasons: readonly ReportReason[] = ['used', 'blocked', 'no_sms', 'other'];

function integerArg(value: string | undefined, name: string, { min = 0, max = Number.MAX_SAFE_INTEGER } = {}): number {
  if (value === undefined) throw new UsageError(`missing ${name}`);
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) throw new UsageError(`${name} must be a whole number from ${min} to ${max}, not "${value}"`);
  return Number(value);
}

function activationLine(a: Activation | ActivationWithMessages): string {
  const code = a.code ? `  code ${a.code}` : '';
  return `${a.id}  ${a.status.padEnd(12)}  ${a.service}/${a.country}  ${a.number}  ${a.price} USD  ${a.created_at}${code}`;
}

function rentalLine(r: Rental | RentalSummary): string {
  const until = r.finished_at ? `ended ${r.finished_at}` : `until ${r.expires_at}`;
  return `${r.id}  ${r.status.padEnd(9)}  ${r.country}/${r.operator}  ${r.number}  ${r.price} USD  ${r.hours} h  ${until}`;
}

/** A spinner with elapsed seconds on stderr while waiting, only on a terminal. */
function progress(io: Io, label: string) {
  if (!io.stderr.isTTY) return { stop() {} };
  const frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
  const started = Date.now();
  let frame = 0;
  const timer = setInterval(() => {
    const seconds = Math.floor((Date.now() - started) / 1000);
    io.stderr.write(`\r${frames[frame++ % frames.length]} ${label} (${seconds} s)`);
  }, 100);
  return {
    stop() {
      clearInterval(timer);
      io.stderr.write('\r\x1b[K');
    },
  };
}

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env, io: Io = process): Promise<number> {
  let json = argv.includes('--json');
  const print = (text: string) => io.stdout.write(`${text}\n`);
  const output = (data: unknown, text: string) => print(json ? JSON.stringify(data, null, 2) : text);
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        json: { type: 'boolean' },
        wait: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        operator: { type: 'string' },
        'max-price': { type: 'string' },
        timeout: { type: 'string' },
        status: { type: 'string' },
        limit: { type: 'string' },
        offset: { type: 'string' },
        note: { type: 'string' },
      },
    });
    json = values.json === true;
    const [command, ...args] = positionals;
    if (values.help || command === 'help') {
      io.stdout.write(usage);
      return exitCodes.ok;
    }
    if (!command) throw new UsageError('missing command');
    const apiKey = env.NOVA_API_KEY;
    if (!apiKey) throw new UsageError('set NOVA_API_KEY to your API key (website: Profile → API access)');
    const nova = new NovaClient({ apiKey, baseUrl: env.NOVA_API_URL || 'http://localhost:3000' });
    const timeoutSeconds = values.timeout === undefined ? 600 : integerArg(values.timeout, '--timeout', { min: 1 });

    const waitForCode = async (activation: Activation | ActivationWithMessages) => {
      const spinner = progress(io, `Waiting for the SMS to ${activation.number}`);
      try {
        return await nova.waitForCode(activation.id, { timeout: timeoutSeconds * 1000 });
      } finally {
        spinner.stop();
      }
    };

    /** Waits for the rental's next SMS; the rental as it was then, and that message. */
    const waitForMessage = async (rental: Rental) => {
      const spinner = progress(io, `Waiting for an SMS to ${rental.number}`);
      let latest = rental;
      try {
        const message = await nova.rentals.waitForMessage(rental.id, { timeout: timeoutSeconds * 1000, onPoll: (r) => (latest = r) });
        return { rental: latest, message };
      } finally {
        spinner.stop();
      }
    };
    const rentalText = (rental: Rental) => [rentalLine(rental), ...rental.messages.map((m) => `  ${m.received_at}  ${m.from}: ${m.text}`)].join('\n');

    const expectArgs = (count: number, names: string) => {
      if (args.length > count) throw new UsageError(`${command} takes ${names}; unexpected "${args[count]}"`);
    };

    switch (command) {
      case 'balance': {
        expectArgs(0, 'no arguments');
        const balance = await nova.balance();
        output(balance, `${balance.balance} ${balance.currency}`);
        return exitCodes.ok;
      }
      case 'services': {
        expectArgs(0, 'no arguments');
        const services = await nova.services();
        output(services, services.map((s) => `${s.code.padEnd(8)} ${s.name}`).join('\n'));
        return exitCodes.ok;
      }
      case 'countries': {
        expectArgs(0, 'no arguments');
        const countries = await nova.countries();
        output(countries, countries.map((c) => `${String(c.id).padEnd(5)} ${c.name} (${c.iso}, ${c.prefix})`).join('\n'));
        return exitCodes.ok;
      }
      case 'prices': {
        expectArgs(2, 'SERVICE [COUNTRY]');
        const service = args[0];
        if (!service) throw new UsageError('prices needs a SERVICE, e.g. `nova-sms prices tg`');
        const rows = args[1] === undefined ? await nova.prices({ service }) : [await nova.prices({ service, country: integerArg(args[1], 'COUNTRY') })];
        output(
          args[1] === undefined ? rows : rows[0],
          rows.map((p) => `${p.service}/${String(p.country).padEnd(5)} ${p.price} USD  ${p.in_stock ? `${p.available} available` : 'out of stock'}`).join('\n'),
        );
        return exitCodes.ok;
      }
      case 'buy': {
        expectArgs(2, 'SERVICE COUNTRY');
        const [service, countryText] = args;
        if (!service || countryText === undefined) throw new UsageError('buy needs SERVICE and COUNTRY, e.g. `nova-sms buy tg 6`');
        const country = integerArg(countryText, 'COUNTRY');
        let maxPrice: number | undefined;
        if (values['max-price'] !== undefined) {
          maxPrice = Number(values['max-price']);
          if (!Number.isFinite(maxPrice) || maxPrice <= 0) throw new UsageError(`--max-price must be a positive USD amount, not "${values['max-price']}"`);
        }
        const activation = await nova.buy({ service, country, operator: values.operator, maxPrice });
        if (!values.wait) {
          output(activation, `Bought activation ${activation.id}: ${activation.number} (${service}/${country}, ${activation.operator}) for ${activation.price} USD`);
          return exitCodes.ok;
        }
        if (!json) io.stderr.write(`Bought activation ${activation.id}: ${activation.number} for ${activation.price} USD\n`);
        const received = await waitForCode(activation);
        output(received, received.code);
        return exitCodes.ok;
      }
      case 'get': {
        expectArgs(1, 'ID');
        const id = integerArg(args[0], 'ID', { min: 1 });
        const activation = values.wait ? await waitForCode(await nova.get(id)) : await nova.get(id);
        output(
          activation,
          [activationLine(activation), ...activation.messages.map((m) => `  ${m.received_at}  ${m.from}: ${m.text}`)].join('\n'),
        );
        return exitCodes.ok;
      }
      case 'list': {
        expectArgs(0, 'options only');
        const status = values.status as ActivationStatus | undefined;
        if (status !== undefined && !statuses.includes(status)) throw new UsageError(`--status must be one of ${statuses.join(', ')}`);
        const page = await nova.list({
          status,
          limit: values.limit === undefined ? undefined : integerArg(values.limit, '--limit', { min: 1, max: 100 }),
          offset: values.offset === undefined ? undefined : integerArg(values.offset, '--offset'),
        });
        output(page, [...page.activations.map(activationLine), `${page.activations.length} of ${page.total}`].join('\n'));
        return exitCodes.ok;
      }
      case 'cancel':
      case 'complete': {
        expectArgs(1, 'ID');
        const id = integerArg(args[0], 'ID', { min: 1 });
        const activation = command === 'cancel' ? await nova.cancel(id) : await nova.complete(id);
        const refund = command === 'cancel' ? `; ${activation.price} USD refunded` : '';
        output(activation, `Activation ${activation.id} ${activation.status}${refund}`);
        return exitCodes.ok;
      }
      case 'reuse': {
        expectArgs(1, 'ID');
        const id = integerArg(args[0], 'ID', { min: 1 });
        const activation = await nova.reuse(id);
        const line = `Activation ${activation.id} reuses ${activation.number} of activation ${id} (${activation.service}/${activation.country}) for ${activation.price} USD`;
        if (!values.wait) {
          output(activation, line);
          return exitCodes.ok;
        }
        if (!json) io.stderr.write(`${line}\n`);
        const received = await waitForCode(activation);
        output(received, received.code);
        return exitCodes.ok;
      }
      case 'report': {
        expectArgs(2, 'ID REASON');
        const id = integerArg(args[0], 'ID', { min: 1 });
        const reason = args[1] as ReportReason | undefined;
        if (reason === undefined || !reportReasons.includes(reason)) throw new UsageError(`report needs a REASON: ${reportReasons.join(', ')}`);
        const { activation, report } = await nova.report(id, { reason, note: values.note });
        const outcome = report.refunded ? `${activation.status}, ${activation.price} USD refunded` : `recorded; the activation is ${activation.status}`;
        output({ activation, report }, `Reported activation ${activation.id} (${report.reason}): ${outcome}`);
        return exitCodes.ok;
      }
      case 'rental-prices': {
        expectArgs(1, '[COUNTRY]');
        const prices = await nova.rentals.prices({ country: args[0] === undefined ? undefined : integerArg(args[0], 'COUNTRY') });
        output(
          prices,
          prices
            .map((p) => `${`${p.country}/${p.operator}`.padEnd(12)} ${p.price_per_hour} USD/h  ${p.price_per_day} USD/day  ${p.available > 0 ? `${p.available} available` : 'out of stock'}`)
            .join('\n') || 'No numbers for rent',
        );
        return exitCodes.ok;
      }
      case 'rent': {
        expectArgs(2, 'COUNTRY HOURS');
        if (args[0] === undefined || args[1] === undefined) throw new UsageError('rent needs COUNTRY and HOURS, e.g. `nova-sms rent 6 24`');
        const country = integerArg(args[0], 'COUNTRY');
        const hours = integerArg(args[1], 'HOURS', { min: 1, max: 720 });
        const rental = await nova.rentals.create({ country, hours, operator: values.operator });
        const line = `Rented ${rental.number} as rental ${rental.id} (country ${rental.country}, ${rental.operator}) for ${rental.hours} h until ${rental.expires_at} UTC, ${rental.price} USD`;
        if (!values.wait) {
          output(rental, line);
          return exitCodes.ok;
        }
        if (!json) io.stderr.write(`${line}\n`);
        const received = await waitForMessage(rental);
        output(received.rental, received.message.code ?? received.message.text);
        return exitCodes.ok;
      }
      case 'rentals': {
        expectArgs(0, 'options only');
        const status = values.status as RentalStatus | undefined;
        if (status !== undefined && !rentalStatuses.includes(status)) throw new UsageError(`--status must be one of ${rentalStatuses.join(', ')}`);
        const page = await nova.rentals.list({
          status,
          limit: values.limit === undefined ? undefined : integerArg(values.limit, '--limit', { min: 1, max: 100 }),
          offset: values.offset === undefined ? undefined : integerArg(values.offset, '--offset'),
        });
        output(page, [...page.rentals.map(rentalLine), `${page.rentals.length} of ${page.total}`].join('\n'));
        return exitCodes.ok;
      }
      case 'rental': {
        expectArgs(1, 'ID');
        const id = integerArg(args[0], 'ID', { min: 1 });
        const rental = values.wait ? (await waitForMessage(await nova.rentals.get(id))).rental : await nova.rentals.get(id);
        output(rental, rentalText(rental));
        return exitCodes.ok;
      }
      case 'extend': {
        expectArgs(2, 'ID HOURS');
        const id = integerArg(args[0], 'ID', { min: 1 });
        const hours = integerArg(args[1], 'HOURS', { min: 1, max: 720 });
        const rental = await nova.rentals.extend(id, hours);
        output(rental, `Rental ${rental.id} extended by ${hours} h until ${rental.expires_at} UTC; ${rental.price} USD charged in all`);
        return exitCodes.ok;
      }
      case 'rental-cancel':
      case 'rental-finish': {
        expectArgs(1, 'ID');
        const id = integerArg(args[0], 'ID', { min: 1 });
        const rental = command === 'rental-cancel' ? await nova.rentals.cancel(id) : await nova.rentals.finish(id);
        const refund = command === 'rental-cancel' ? `; ${rental.price} USD refunded` : '';
        output(rental, `Rental ${rental.id} ${rental.status}${refund}`);
        return exitCodes.ok;
      }
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.stderr.write(`nova-sms: ${(error as Error).message}\n\n${usage}`);
      return exitCodes.usage;
    }
    if (error instanceof NovaTimeoutError) {
      const id = error.activationId;
      io.stderr.write(`nova-sms: ${error.message}. It is still open: \`nova-sms get ${id} --wait\` to keep waiting, \`nova-sms cancel ${id}\` for a refund\n`);
      if (json) print(JSON.stringify({ ok: false, error: { code: 'timeout', message: error.message, activation_id: id } }, null, 2));
      return exitCodes.timeout;
    }
    if (error instanceof NovaRentalTimeoutError) {
      const id = error.rentalId;
      io.stderr.write(`nova-sms: ${error.message}. It is still active: \`nova-sms rental ${id} --wait\` to keep waiting, \`nova-sms rental-finish ${id}\` to end it\n`);
      if (json) print(JSON.stringify({ ok: false, error: { code: 'timeout', message: error.message, rental_id: id } }, null, 2));
      return exitCodes.timeout;
    }
    const code =
      error instanceof NovaError
        ? error.code
        : error instanceof NovaActivationEndedError
          ? 'activation_ended'
          : error instanceof NovaRentalEndedError
            ? 'rental_ended'
            : error instanceof NovaNetworkError
              ? 'network_error'
              : error instanceof NovaUnexpectedResponseError
                ? 'unexpected_response'
                : undefined;
    if (code === undefined) throw error;
    const message = (error as Error).message;
    io.stderr.write(`nova-sms: ${message} (${code})\n`);
    if (json) print(JSON.stringify({ ok: false, error: { code, message } }, null, 2));
    return exitCodes.apiError;
  }
}

// Run when started as a program (also through the npm bin symlink), not when imported.
if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  process.exitCode = await main(process.argv.slice(2));
}
