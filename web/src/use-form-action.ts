import { type FormEvent, useCallback, useState } from 'react';
import { errorMessage } from './api.ts';

/**
 * The busy flag and error message of a form whose submit calls the server: `submit(action)`
 * returns the form's onSubmit handler, which shows the failure as the form's error.
 */
export function useFormAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = useCallback(
    (action: () => Promise<void>, describeError: (error: unknown) => string = errorMessage) =>
      async (event: FormEvent) => {
        event.preventDefault();
        setBusy(true);
        setError(null);
        try {
          await action();
        } catch (e) {
          setError(describeError(e));
        } finally {
          setBusy(false);
        }
      },
    [],
  );
  return { busy, error, setError, submit };
}

/** The server's password rule, checked before sending so the form can say it at once. */
export const minPasswordLength = 8;

export function newPasswordProblem(password: string): string | null {
  return password.length < minPasswordLength ? `Choose a password of at least ${minPasswordLength} characters.` : null;
}
