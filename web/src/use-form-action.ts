import { type FormEvent, useCallback, useState } from 'react';
import { errorMessage } from './api.ts';

/**
 * The busy flag and error message of a form whose submit calls the server: `submit(action)`
 * returns the form's onSubmit handler, which shows the failure as the form's error; `run(action)`
 * does the same for a button outside a form (enable, remove, import).
 */
export function useFormAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = useCallback(async (action: () => Promise<void>, describeError: (error: unknown) => string = errorMessage) => {
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  }, []);
  const submit = useCallback(
    (action: () => Promise<void>, describeError?: (error: unknown) => string) => async (event: FormEvent) => {
      event.preventDefault();
      await run(action, describeError);
    },
    [run],
  );
  return { busy, error, setError, run, submit };
}

/** The server's password rule, checked before sending so the form can say it at once. */
export const minPasswordLength = 8;

export function newPasswordProblem(password: string): string | null {
  return password.length < minPasswordLength ? `Choose a password of at least ${minPasswordLength} characters.` : null;
}
