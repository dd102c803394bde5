import { toDataURL } from 'qrcode';
import { useEffect, useState } from 'react';
import { FormError, Loading } from '../../components/States.tsx';
import { navigate, useLocation } from '../../router.tsx';
import { useFormAction } from '../../use-form-action.ts';
import { Field } from '../components/Field.tsx';
import { consolePost, errorMessage, type SignInStage, type StaffMember } from '../console-api.ts';
import { safeNext, useConsoleSession } from '../console-session.tsx';

interface SignInAnswer {
  staff: StaffMember;
  stage: SignInStage;
}

function PasswordStep() {
  const { setSession } = useConsoleSession();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const { busy, error, submit } = useFormAction();
  const onSubmit = submit(async () => {
    const answer = await consolePost<SignInAnswer>('/signin', { email, password });
    setSession(answer);
  });
  return (
    <form className="form" onSubmit={onSubmit} noValidate>
      <Field label="Email">
        <input type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} />
      </Field>
      <Field label="Password">
        <input type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
      </Field>
      <FormError error={error} />
      <button type="submit" className="btn btn-primary" disabled={busy}>
        {busy ? 'Signing in…' : 'Sign in'}
      </button>
    </form>
  );
}

function CodeForm({ button }: { button: string }) {
  const { setSession } = useConsoleSession();
  const [code, setCode] = useState('');
  const { busy, error, submit } = useFormAction();
  const onSubmit = submit(async () => {
    const answer = await consolePost<SignInAnswer>('/totp/verify', { code: code.replace(/\s+/g, '') });
    setSession(answer);
  });
  return (
    <form className="form" onSubmit={onSubmit} noValidate>
      <Field label="Code from your authenticator app">
        <input
          type="text"
          inputMode="numeric"
          autoComplete="one-time-code"
          pattern="[0-9 ]*"
          maxLength={8}
          required
          value={code}
          onChange={(e) => setCode(e.target.value)}
        />
      </Field>
      <FormError error={error} />
      <button type="submit" className="btn btn-primary" disabled={busy || code.trim() === ''}>
        {busy ? 'Checking…' : button}
      </button>
    </form>
  );
}

/** First sign-in of an admin: a new TOTP secret, as a QR code and as text, confirmed by a code. */
function EnrolStep() {
  const [enrolment, setEnrolment] = useState<{ secret: string; otpauth_url: string; qr: string | null } | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let current = true;
    consolePost<{ secret: string; otpauth_url: string }>('/totp/enroll').then(
      async ({ secret, otpauth_url }) => {
        // The QR code is drawn here, in the browser: the secret never leaves for another service.
        const qr = await toDataURL(otpauth_url, { margin: 1, width: 200 }).catch(() => null);
        if (current) setEnrolment({ secret, otpauth_url, qr });
      },
      (e) => current && setError(errorMessage(e)),
    );
    return () => {
      current = false;
    };
  }, []);
  if (error) return <FormError error={error} />;
  if (!enrolment) return <Loading what="your new second factor" />;
  return (
    <div className="stack">
      <p>
        Admins protect the console with a second factor. Scan this code with an authenticator app (Google Authenticator, 1Password,
        Aegis…), or type the secret in by hand, then enter the 6-digit code it shows.
      </p>
      <div className="totp-enrol">
        {enrolment.qr && <img src={enrolment.qr} width={200} height={200} alt="QR code to add Nova Console to your authenticator app" />}
        <dl className="totp-details">
          <dt>Secret</dt>
          <dd>
            <code data-testid="totp-secret">{enrolment.secret}</code>
          </dd>
          <dt>Setup link</dt>
          <dd>
            <code className="totp-url" data-testid="totp-url">
              {enrolment.otpauth_url}
            </code>
          </dd>
        </dl>
      </div>
      <CodeForm button="Confirm and sign in" />
    </div>
  );
}

/** /console/signin: email and password, then the second factor (enrolment or code). */
export function SignInPage() {
  const { staff, stage, setSession } = useConsoleSession();
  const { search } = useLocation();
  const next = safeNext(search.get('next'));

  useEffect(() => {
    document.title = 'Sign in — Nova Console';
  }, []);
  useEffect(() => {
    if (staff && stage === 'complete') navigate(next, { replace: true });
  }, [staff, stage, next]);

  const startOver = async () => {
    try {
      await consolePost('/signout');
    } finally {
      setSession({ staff: null, stage: null });
    }
  };

  let heading = 'Sign in to Nova Console';
  let body = <PasswordStep />;
  if (staff === undefined) body = <Loading what="the console" />;
  else if (staff && stage === 'totp_enroll') {
    heading = 'Set up your second factor';
    body = <EnrolStep />;
  } else if (staff && stage === 'totp') {
    heading = 'Enter your code';
    body = (
      <>
        <p>Enter the 6-digit code your authenticator app shows for Nova Console.</p>
        <CodeForm button="Verify" />
      </>
    );
  } else if (staff && stage === 'complete') body = <Loading what="the console" />;

  return (
    <main className="console-signin" id="console-main">
      <section className="card console-signin-card">
        <p className="eyebrow">Nova Console · staff only</p>
        <h1>{heading}</h1>
        {staff && stage !== 'complete' && (
          <p className="muted small">
            Signed in as {staff.email}.{' '}
            <button type="button" className="btn-link" onClick={startOver}>
              Use another account
            </button>
          </p>
        )}
        {body}
      </section>
    </main>
  );
}
