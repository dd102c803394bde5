import { useState } from 'react';
import { FormError } from '../../components/States.tsx';
import { useFormAction } from '../../use-form-action.ts';
import { Field } from './Field.tsx';

/**
 * The in-place "are you sure?" of a change that goes to the audit log with an optional reason
 * (disable a provider, retire a number): the reason, the red confirm button and a way back.
 */
export function ReasonConfirmForm(props: {
  /** The form's accessible name, e.g. "Retire +12025550100". */
  label: string;
  question: string;
  confirm: string;
  /** The confirm button's text while the change is sent, e.g. "Retiring…". */
  confirming: string;
  cancel: string;
  onCancel(): void;
  /** Called with the trimmed reason, or undefined when none was typed. */
  onConfirm(reason: string | undefined): Promise<void>;
}) {
  const [reason, setReason] = useState('');
  const { busy, error, submit } = useFormAction();
  return (
    <form className="inline-form confirm" aria-label={props.label} onSubmit={submit(() => props.onConfirm(reason.trim() || undefined))}>
      <Field label={props.question} grow>
        <input type="text" maxLength={500} value={reason} onChange={(e) => setReason(e.target.value)} />
      </Field>
      <button type="submit" className="btn btn-danger btn-small" disabled={busy}>
        {busy ? props.confirming : props.confirm}
      </button>
      <button type="button" className="btn btn-small btn-ghost" onClick={props.onCancel}>
        {props.cancel}
      </button>
      <FormError error={error} />
    </form>
  );
}
