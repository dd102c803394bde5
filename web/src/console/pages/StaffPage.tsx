import { useState } from 'react';
import { CopyButton } from '../../components/CopyButton.tsx';
import { ErrorBox, FormError, Loading } from '../../components/States.tsx';
import { useAsync } from '../../use-async.ts';
import { useFormAction } from '../../use-form-action.ts';
import { consoleGet, consolePost, formatLocalTime, type StaffMember, type StaffRole } from '../console-api.ts';
import type { ConsolePageProps } from '../console-pages.tsx';

function CreateStaffForm({ onCreated }: { onCreated(): void }) {
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<StaffRole>('support');
  const [password, setPassword] = useState('');
  const [created, setCreated] = useState<{ staff: StaffMember; password: string } | null>(null);
  const { busy, error, submit } = useFormAction();
  const onSubmit = submit(async () => {
    const answer = await consolePost<{ staff: StaffMember; password: string }>('/staff', {
      email: email.trim(),
      role,
      ...(password ? { password } : {}),
    });
    setCreated(answer);
    setEmail('');
    setPassword('');
    onCreated();
  });
  return (
    <section className="card" aria-labelledby="new-staff">
      <h2 id="new-staff">Add a staff member</h2>
      <form className="inline-form" onSubmit={onSubmit} noValidate>
        <label className="field grow">
          Staff email
          <input type="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
        </label>
        <label className="field">
          Role
          <select value={role} onChange={(e) => setRole(e.target.value as StaffRole)}>
            <option value="support">support (inbox, customers read-only, feedback)</option>
            <option value="admin">admin (everything)</option>
          </select>
        </label>
        <label className="field grow">
          Password (optional, 12+ characters)
          <input type="password" autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} />
        </label>
        <button type="submit" className="btn btn-primary" disabled={busy || email.trim() === ''}>
          {busy ? 'Adding…' : 'Add staff member'}
        </button>
      </form>
      <FormError error={error} />
      {created && (
        <div className="secret-once" role="status" data-testid="new-staff-password">
          <p>
            <strong>{created.staff.email}</strong> can now sign in at /console as {created.staff.role}. Their password, shown only
            this once:
          </p>
          <div className="key-row">
            <code>{created.password}</code>
            <CopyButton text={created.password} what="password" />
          </div>
          {created.staff.role === 'admin' && <p className="small">They will set up a second factor when they first sign in.</p>}
        </div>
      )}
    </section>
  );
}

export function StaffPage(_props: ConsolePageProps) {
  const list = useAsync(() => consoleGet<{ staff: StaffMember[] }>('/staff'), []);
  return (
    <div className="page">
      <div className="page-head">
        <div>
          <h1>Staff</h1>
          <p className="muted">Who can sign in to the console. Admins can do everything; support staff answer chats and read customers.</p>
        </div>
      </div>
      <CreateStaffForm onCreated={list.reload} />
      <section className="card">
        <h2>Staff members</h2>
        {list.loading && !list.data ? (
          <Loading what="staff" />
        ) : list.error ? (
          <ErrorBox message={list.error} onRetry={list.reload} />
        ) : (
          <div className="table-wrap">
            <table className="table" aria-label="Staff members">
              <thead>
                <tr>
                  <th scope="col">Email</th>
                  <th scope="col">Role</th>
                  <th scope="col">Second factor</th>
                  <th scope="col">Added</th>
                </tr>
              </thead>
              <tbody>
                {list.data?.staff.map((member) => (
                  <tr key={member.id}>
                    <td>{member.email}</td>
                    <td>
                      <span className={`badge role-${member.role}`}>{member.role}</span>
                    </td>
                    <td>{member.totp_enabled ? 'On' : member.role === 'admin' ? 'Set up at first sign-in' : 'Off'}</td>
                    <td>{formatLocalTime(member.created_at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </div>
  );
}
