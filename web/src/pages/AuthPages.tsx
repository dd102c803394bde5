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
  const { setAccount } = useSession();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [companyName, setCompanyName] = useState('');
  const { busy, error, setError, submit: submitWith } = useFormAction();

  const submit = submitWith(async () => {
    const problem = newPasswordProblem(password);
    if (problem) return setError(problem);
    const result = await post<{ account: Account }>('/api/web/signup', {
      email,
      password,
      ...(companyName.trim() ? { company_name: companyName.trim() } : {}),
    });
    setAccount(result.account);
    navigate('/dashboard');
  });

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
          {busy ? 'Creating your account…' : 'Sign up'}
        </button>
        <p className="muted">
          Already have an account? <Link to="/signin">Sign in</Link>
        </p>
      </form>
    </section>
  );
}
