import { useState } from 'react';
import { type Account, errorMessage, post } from '../api.ts';
import { FormError } from '../components/States.tsx';
import { Link, navigate, useLocation } from '../router.tsx';
import { useSession } from '../session.tsx';
import { newPasswordProblem, useFormAction } from '../use-form-action.ts';

export function ForgotPasswordPage() {
  const [email, setEmail] = useState('');
  const [sent, setSent] = useState(false);
  const { busy, error, submit: submitWith } = useFormAction();

  const submit = submitWith(async () => {
    await post('/api/web/password-reset/request', { email });
    setSent(true);
  });

  return (
    <section className="page narrow">
      <form className="card form" onSubmit={submit}>
        <h1>Forgot your password?</h1>
        {sent ? (
          <p role="status">
            If an account exists for <strong>{email}</strong>, we sent it a link to set a new password. The link works for one
            hour. Check your inbox (and the spam folder).
          </p>
        ) : (
          <>
            <p className="muted">Enter your email and we will send you a link to set a new password.</p>
            <label className="field">
              <span>Email</span>
              <input type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
            </label>
            <FormError error={error} />
            <button type="submit" className="btn btn-primary" disabled={busy}>
              {busy ? 'Sending…' : 'Send reset link'}
            </button>
          </>
        )}
        <p className="muted">
          <Link to="/signin">Back to sign in</Link>
        </p>
      </form>
    </section>
  );
}

export function ResetPasswordPage() {
  const { setAccount } = useSession();
  const { search } = useLocation();
  const token = search.get('token') ?? '';
  const [password, setPassword] = useState('');
  const { busy, error, setError, submit: submitWith } = useFormAction();

  if (!token) {
    return (
      <section className="page narrow">
        <div className="card">
          <h1>Set a new password</h1>
          <p>This link is incomplete. Open the link from the email again, or <Link to="/forgot-password">request a new one</Link>.</p>
        </div>
      </section>
    );
  }

  const submit = submitWith(
    async () => {
      const problem = newPasswordProblem(password);
      if (problem) return setError(problem);
      const result = await post<{ account: Account }>('/api/web/password-reset/confirm', { token, password });
      setAccount(result.account);
      navigate('/dashboard');
    },
    (e) => `${errorMessage(e)} You can request a new link from the sign-in page.`,
  );

  return (
    <section className="page narrow">
      <form className="card form" onSubmit={submit}>
        <h1>Set a new password</h1>
        <label className="field">
          <span>New password</span>
          <input type="password" autoComplete="new-password" required minLength={8} value={password} onChange={(e) => setPassword(e.target.value)} />
          <small className="muted">At least 8 characters.</small>
        </label>
        <FormError error={error} />
        <button type="submit" className="btn btn-primary" disabled={busy}>
          {busy ? 'Saving…' : 'Save and sign in'}
        </button>
      </form>
    </section>
  );
}
