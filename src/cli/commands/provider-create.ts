import { parseArgs } from 'node:util';
import type { OperatorCommand } from '../command.ts';
import { AppError } from '../../http/errors.ts';
import { cliActor } from '../../modules/audit/audit.service.ts';
import { parseUsd } from '../../modules/billing/money.ts';
import { requireOption } from '../options.ts';

const kinds = ['http', 'android-gateway', 'smshub', 'sms-activate'] as const;

export const providerCreate: OperatorCommand = {
  name: 'provider:create',
  usage:
    'provider:create --name NAME [--kind http|android-gateway|smshub|sms-activate] [--cost USD] [--signing-key KEY] [--url URL --countries 6=usa,16=england [--key KEY] [--payout PERCENT] [--api-key KEY] [--markup PERCENT] [--rentals]]',
  summary:
    'Register an SMS provider: "http" pushes to POST /api/v1/supply/sms (prints its secret); "android-gateway" is an SMS Gateway for Android phone (prints its webhook path and signing key); "smshub" is a SIM-bank agent speaking the SMSHub agent protocol at --url (prints its protocol key)',
  async run(services, args) {
    const { values } = parseArgs({
      args,
      options: {
        name: { type: 'string' },
        kind: { type: 'string' },
        'signing-key': { type: 'string' },
        url: { type: 'string' },
        countries: { type: 'string' },
        key: { type: 'string' },
        payout: { type: 'string' },
        'api-key': { type: 'string' },
        markup: { type: 'string' },
        rentals: { type: 'boolean' },
        cost: { type: 'string' },
      },
    });
    const kind = values.kind ?? 'http';
    if (!(kinds as readonly string[]).includes(kind)) {
      throw new AppError('invalid_request', `--kind must be one of ${kinds.join(', ')}, not "${kind}"`);
    }
    // What one sale of a number of our own costs us (the monitor's supply cost and margin).
    const cost = values.cost === undefined ? undefined : parseUsd(values.cost);
    if (cost === null || (cost !== undefined && cost < 0)) throw new AppError('invalid_request', `--cost is what one number costs us in USD, e.g. 0.05, not "${values.cost}"`);
    if (cost !== undefined && (kind === 'smshub' || kind === 'sms-activate')) throw new AppError('invalid_request', `--cost is for providers with numbers of their own; a ${kind} source reports its own cost`);
    // The console's audited path (action provider.create; secrets and keys stay out of the audit log).
    const { provider: health, credentials } = await services.supplyConsole.createProvider(cliActor, {
      name: requireOption(values, 'name'),
      kind: kind as (typeof kinds)[number],
      costPerNumber: cost,
      signingKey: values['signing-key'],
      ...(kind === 'smshub' ? smshubOptions(values) : {}),
      ...(kind === 'sms-activate' ? upstreamOptions(values) : {}),
    });
    const provider = { id: health.providerId, name: health.name };
    const secret = credentials.secret ?? credentials.signing_key ?? credentials.key;
    if (kind === 'sms-activate') {
      return {
        json: { provider_id: provider.id, name: provider.name, kind },
        text: `Provider ${provider.id} "${provider.name}" (sms-activate upstream at ${values.url}) created; its numbers are resold when local stock runs out${values.rentals ? ', and rented when no local rentable number is free' : ''}`,
      };
    }
    if (kind === 'smshub') {
      return {
        json: { provider_id: provider.id, name: provider.name, kind, key: secret, push_path: '/api/v1/supply/smshub' },
        text: [
          `Provider ${provider.id} "${provider.name}" (SMSHub agent at ${values.url}) created`,
          `Protocol key (the agent checks it on our requests and sends it with PUSH_SMS): ${secret}`,
          'The agent pushes SMS to https://YOUR_HOST/api/v1/supply/smshub',
        ].join('\n'),
      };
    }
    if (kind === 'android-gateway') {
      const webhookPath = `/api/v1/supply/android-gateway/${provider.id}`;
      return {
        json: { provider_id: provider.id, name: provider.name, kind, webhook_path: webhookPath, signing_key: secret },
        text: [
          `Provider ${provider.id} "${provider.name}" (SMS Gateway for Android) created`,
          `Register https://YOUR_HOST${webhookPath} for the sms:received event in the app`,
          `Signing key (set it in the app: Settings → Webhooks → Signing Key): ${secret}`,
          `Then map its SIMs: numbers:add --provider ${provider.id} --country ID --device DEVICE_ID --sim 1 +NUMBER`,
        ].join('\n'),
      };
    }
    return {
      json: { provider_id: provider.id, name: provider.name, kind, secret },
      text: `Provider ${provider.id} "${provider.name}" created\nSecret (send as Authorization: Bearer …): ${secret}`,
    };
  },
};

function urlAndCountries(values: Record<string, string | boolean | undefined>) {
  const url = requireOption(values, 'url');
  if (!/^https?:\/\//.test(url)) throw new AppError('invalid_request', `--url must be an http(s) URL, not "${url}"`);
  const countries: Record<string, string> = {};
  for (const pair of requireOption(values, 'countries').split(',')) {
    const match = /^(\d+)=([a-z0-9_ -]+)$/i.exec(pair.trim());
    if (!match) throw new AppError('invalid_request', `--countries takes OUR_ID=THEIRS pairs, e.g. 6=usa,16=england; "${pair}" is not one`);
    countries[match[1]!] = match[2]!;
  }
  return { url, countries };
}

function upstreamOptions(values: Record<string, string | boolean | undefined>) {
  const { url, countries } = urlAndCountries(values);
  const markup = values.markup === undefined ? 20 : Number(values.markup);
  if (!Number.isFinite(markup) || markup < 0 || markup > 1000) throw new AppError('invalid_request', '--markup is a percent over the upstream cost, 0 to 1000');
  // --rentals: customers may also rent its numbers by the hour (getRentNumber …) when no local rentable number is free.
  return { url, apiKey: requireOption(values, 'api-key'), countries, markupPercent: markup, rentals: values.rentals === true };
}

function smshubOptions(values: Record<string, string | boolean | undefined>) {
  const { url, countries } = urlAndCountries(values);
  const payout = values.payout === undefined ? 80 : Number(values.payout);
  if (!Number.isFinite(payout) || payout <= 0 || payout > 100) throw new AppError('invalid_request', '--payout is a percent of our price, 1 to 100');
  return { url, countries, payoutPercent: payout, key: typeof values.key === 'string' ? values.key : undefined };
}
