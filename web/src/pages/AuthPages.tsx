import { useState } from 'react';
import { type Account, post } from '../api.ts';
import { FormError } from '../components/States.tsx';
import { Link, navigate, useLocation } from '../router.tsx';
import { useSession } from '../session.tsx';
import { newPasswordProblem, useFormAction } from '../use-form-action.ts';

/** Only same-site paths are followed after sign-in (no open redirect). */
export function safeNext(next: string | null): string {
  return next && next.startsWith('/') && !next.startsWith('//') ? next : '/dashboard';
}

export function SignInPage() {
  const { setAccount } = useSession();
  const { search } = useLocation();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const { busy, error, submit: submitWith } = useFormAction();

  const submit = submitWith(async () => {
    const result = await post<{ account: Account }>('/api/web/signin', { email, password });
    setAccount(result.account);
    navigate(safeNext(search.get('next')));
  });

  return (
    <section className="page narrow">
      <form className="card form" onSubmit={submit}>
        <h1>Sign in</h1>
        <label className="field">
          <span>Email</span>
          <input type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
        </label>
        <label className="field">
          <span>Password</span>
          <input type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
        </label>
        <FormError error={error} />
        <button type="submit" className="btn btn-primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        <p className="muted">
          <Link to="/forgot-password">Forgot your password?</Link> · New here? <Link to="/signup">Create an account</Link>
        </p>
      </form>
    </section>
  );
}

export function SignUpPage() {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [companyName, setCompanyName] = useState('');
  const [sentTo, setSentTo] = useState<string | null>(null);
  const { busy, error, setError, submit: submitWith } = useFormAction();

  // The account is created from the link we email, never here: the answer is the same whether or
  // not the address already has an account (that one gets a sign-in link instead), so the form
  // cannot be used to find out who our customers are.
  const submit = submitWith(async () => {
    const problem = newPasswordProblem(password);
    if (problem) return setError(problem);
    await post<{ email_sent: true }>('/api/web/signup', {
      email,
      password,
      ...(companyName.trim() ? { company_name: companyName.trim() } : {}),
    });
    setSentTo(email);
  });

  if (sentTo) {
    return (
      <section className="page narrow">
        <div className="card form">
          <h1>Check your email</h1>
          <p role="status">
            We sent an email to <strong>{sentTo}</strong>. Open the link in it to finish creating your account; it works for
            24 hours. If this address already has an account, the email tells you how to sign in instead.
          </p>
          <p className="muted">No email after a few minutes? Check the spam folder, or sign up again.</p>
          <p className="muted">
            <Link to="/signin">Sign in</Link>
          </p>
        </div>
      </section>
    );
  }

  return (
    <section className="page narrow">
      <form className="card form" onSubmit={submit}>
        <h1>Create your account</h1>
        <p className="muted">You get a company of your own, an API key, and a dashboard to buy numbers. Free — you only pay for numbers.</p>
        <label className="field">
          <span>Email</span>
          <input type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
        </label>
        <label className="field">
          <span>Password</span>
          <input
            type="password"
            autoComplete="new-password"
            required
            aria-describedby="password-hint"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
          <small id="password-hint" className="muted">At least 8 characters.</small>
        </label>
        <label className="field">
          <span>Company name (optional)</span>
          <input type="text" autoComplete="organization" value={companyName} onChange={(e) => setCompanyName(e.target.value)} />
        </label>
        <FormError error={error} />
        <button type="submit" className="btn btn-primary" disabled={busy}>
          {busy ? 'Sending…' : 'Sign up'}
        </button>
        <p className="muted">
          Already have an account? <Link to="/signin">Sign in</Link>
        </p>
      </form>
    </section>
  );
}

/** The page of the emailed sign-up link: one click creates the account and signs in. */
export function ConfirmSignUpPage() {
  const { setAccount } = useSession();
  const { search } = useLocation();
  const token = search.get('token') ?? '';
  const { busy, error, submit: submitWith } = useFormAction();

  // A button rather than on page load: mail scanners that open links must not create accounts.
  const submit = submitWith(async () => {
    const result = await post<{ account: Account }>('/api/web/signup/confirm', { token });
    setAccount(result.account);
    navigate('/dashboard');
  });

  return (
    <section className="page narrow">
      <form className="card form" onSubmit={submit}>
        <h1>Finish creating your account</h1>
        {token ? (
          <>
            <p>Your email address is confirmed by this link. Create your company, its dashboard and your API key now.</p>
            <FormError error={error} />
            <button type="submit" className="btn btn-primary" disabled={busy}>
              {busy ? 'Creating your account…' : 'Create my account'}
            </button>
          </>
        ) : (
          <p>This link is incomplete. Open the link from the email again, or <Link to="/signup">sign up again</Link>.</p>
        )}
        <p className="muted">
          Already have an account? <Link to="/signin">Sign in</Link>
        </p>
      </form>
    </section>
  );
}
