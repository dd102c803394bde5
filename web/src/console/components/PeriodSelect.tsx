import { Field } from './Field.tsx';

/** "Period": Today or the last N days, for figures computed over a number of UTC days. */
export function PeriodSelect({ days, choices, onDays }: { days: number; choices: readonly number[]; onDays(days: number): void }) {
  return (
    <Field label="Period" inline>
      <select value={days} onChange={(e) => onDays(Number(e.target.value))}>
        {choices.map((choice) => (
          <option key={choice} value={choice}>
            {choice === 1 ? 'Today' : `Last ${choice} days`}
          </option>
        ))}
      </select>
    </Field>
  );
}
