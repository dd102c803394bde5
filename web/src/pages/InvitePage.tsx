import { useState } from 'react';
import { type Account, api, post } from '../api.ts';
import { ErrorBox, FormError, Loading } from '../components/States.tsx';
import { Link, navigate, useLocation } from '../router.tsx';
import { useSession } from '../session.tsx';
import { useAsync } from '../use-async.ts';
import { newPasswordProblem, useFormAction } from '../use-form-action.ts';

/** The server's messages carry no final stop; this one is followed by another sentence. */
const sentence = (text: string) => (/[.!?]$/.test(text) ? text : `${text}.`);

export function InvitePage() {
  const { setAccount } = useSession();
  const { search } = useLocation();
  const token = search.get('token') ?? '';
  const invite = useAsync(
    () => (token ? api<{ email: string; company_name: string; role: string }>(`/api/web/invites/${encodeURIComponent(token)}`) : Promise.reject(new Error('This invite link is incomplete.'))),
    [token],
  );
  const [password, setPassword] = useState('');
  const { busy, error, setError, submit: submitWith } = useFormAction();

  const submit = submitWith(async () => {
    const problem = newPasswordProblem(password);
    if (problem) return setError(problem);
    const result = await post<{ account: Account }>('/api/web/invites/accept', { token, password });
    setAccount(result.account);
    navigate('/dashboard');
  });

  return (
    <section className="page narrow">
      <div className="card form">
        <h1>Join your team</h1>
        {invite.loading ? (
          <Loading what="your invitation" />
        ) : invite.error || !invite.data ? (
          <ErrorBox message={`${sentence(invite.error ?? 'This invitation is not valid')} Ask the person who invited you for a new link, or sign in if you already joined.`} />
        ) : (
          <form className="form" onSubmit={submit}>
            <p>
              You are invited to <strong>{invite.data.company_name}</strong> as <strong>{invite.data.role}</strong>. Choose a
              password for <strong>{invite.data.email}</strong> to join; you get your own API key.
            </p>
            <label className="field">
              <span>Password</span>
              <input type="password" autoComplete="new-password" required minLength={8} value={password} onChange={(e) => setPassword(e.target.value)} />
              <small className="muted">At least 8 characters.</small>
            </label>
            <FormError error={error} />
            <button type="submit" className="btn btn-primary" disabled={busy}>
              {busy ? 'Joining…' : 'Join the team'}
            </button>
          </form>
        )}
        <p className="muted">
          <Link to="/signin">Sign in instead</Link>
        </p>
      </div>
    </section>
  );
}
