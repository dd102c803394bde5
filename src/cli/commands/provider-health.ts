import type { OperatorCommand } from '../command.ts';
import { formatApiTime } from '../../time-format.ts';

export const providerHealth: OperatorCommand = {
  name: 'provider:health',
  usage: 'provider:health',
  summary: 'Per provider: enabled or disabled (and why), last seen, SMS received, delivery rate (activations with SMS / sold), median time to code, customer reports, disabled numbers',
  async run(services) {
    const providers = (await services.supply.providerHealth()).map((p) => ({
      provider_id: p.providerId,
      name: p.name,
      kind: p.kind,
      enabled: p.enabled,
      disabled_reason: p.disabledReason,
      disabled_at: p.disabledAt ? formatApiTime(p.disabledAt) : null,
      last_seen_at: p.lastSeenAt ? formatApiTime(p.lastSeenAt) : null,
      sms_received: p.smsReceived,
      activations_sold: p.activationsSold,
      activations_with_sms: p.activationsWithSms,
      delivery_rate: p.deliveryRate === null ? null : Math.round(p.deliveryRate * 1000) / 1000,
      median_seconds_to_code: p.medianSecondsToCode === null ? null : Math.round(p.medianSecondsToCode),
      numbers: p.numbers,
      numbers_disabled: p.numbersDisabled,
      reports: p.reports,
    }));
    const text = providers
      .map(
        (p) =>
          `${p.provider_id} ${p.name} (${p.kind}${p.enabled ? '' : `, disabled${p.disabled_reason ? ` since ${p.disabled_at}: ${p.disabled_reason}` : ''}`}): last seen ${p.last_seen_at ?? 'never'}, ` +
          `${p.sms_received} SMS, ${p.activations_with_sms}/${p.activations_sold} activations answered` +
          `${p.delivery_rate === null ? '' : ` (${Math.round(p.delivery_rate * 100)}%)`}, median ${p.median_seconds_to_code ?? '–'} s to code, ${p.reports} reports, ` +
          `${p.numbers_disabled}/${p.numbers} numbers disabled`,
      )
      .join('\n');
    return { json: { providers }, text: text || 'No providers' };
  },
};
