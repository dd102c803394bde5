/** Shapes of the supply routes of /api/console (docs/console-api.md, "Supply"). */
import { consoleGet } from './console-api.ts';

export type ProviderKind = 'demo' | 'http' | 'android-gateway' | 'smshub' | 'sms-activate';

export interface Provider {
  id: number;
  name: string;
  kind: ProviderKind;
  enabled: boolean;
  disabled_reason: string | null;
  disabled_at: string | null;
  last_seen_at: string | null;
  sms_received: number;
  activations_sold: number;
  activations_with_sms: number;
  delivery_rate: number | null;
  median_seconds_to_code: number | null;
  numbers: number;
  numbers_disabled: number;
  numbers_retired: number;
  /** Customers' reports of its numbers (used, blocked, no SMS, other). */
  reports: number;
  cost_per_number: number | null;
}

/** The secrets of a new provider, shown once. */
export interface ProviderCredentials {
  secret?: string;
  signing_key?: string;
  webhook_path?: string;
  key?: string;
  push_path?: string;
}

export interface PhoneNumber {
  id: number;
  e164: string;
  country_id: number;
  operator: string;
  provider: { id: number; name: string; kind: ProviderKind };
  enabled: boolean;
  retired_at: string | null;
  busy_activation_id: number | null;
  /** The rental holding the number now (issue 11), or null. */
  busy_rental_id: number | null;
  /** The operator lets customers rent it by the hour. */
  rentable: boolean;
  busy_since: string | null;
  cooldown_until: string | null;
  consecutive_failures: number;
  device_id: string | null;
  sim_slot: number | null;
  created_at: string;
}

export interface Sms {
  id: number;
  provider: { id: number; name: string };
  number_id: number | null;
  to: string;
  sender: string;
  text: string;
  code: string | null;
  activation_id: number | null;
  received_at: string;
}

export interface Rental {
  activation_id: number;
  company: { id: number; name: string } | null;
  service: string;
  country_id: number;
  price: number;
  status: string;
  outcome: string | null;
  rented_at: string;
  first_sms_at: string | null;
  first_code_at: string | null;
  ended_at: string | null;
  supply_cost: number | null;
  sms: { id: number; sender: string; text: string; code: string | null; received_at: string }[];
}

/** Kinds whose numbers we hold ourselves (import, retire); the others resell an upstream's. */
export const localKinds: readonly ProviderKind[] = ['demo', 'http', 'android-gateway'];

export const loadProviders = () => consoleGet<{ providers: Provider[] }>('/supply/providers');
