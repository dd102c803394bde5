/** How the console shows supply and sales figures: delivery rates, times to code, costs that may be unknown. */
import { formatUsd } from '../api.ts';

/** 0.5 → "50%"; no rate yet (nothing sold) → "—". */
export const formatRate = (rate: number | null) => (rate === null ? '—' : `${Math.round(rate * 100)}%`);

/** Below this share of sales with a code, a provider or service is flagged as delivering badly. */
export const isPoorDelivery = (rate: number | null) => rate !== null && rate < 0.7;

/** A median time to code: seconds up to a minute and a half, then minutes; "—" when none came. */
export const formatSeconds = (s: number | null) => (s === null ? '—' : s < 90 ? `${Math.round(s)} s` : `${(s / 60).toFixed(1)} min`);

/** An amount that may be unknown (a sale from before supply costs were recorded): "—" then. */
export const formatOptionalUsd = (amount: number | null) => (amount === null ? '—' : formatUsd(amount));
