import { useState } from 'react';
import { CopyButton } from '../../components/CopyButton.tsx';
import { FormError } from '../../components/States.tsx';
import { useAsync } from '../../use-async.ts';
import { useFormAction } from '../../use-form-action.ts';
import { AsyncContent } from '../components/AsyncContent.tsx';
import { actionsColumn, DataTable } from '../components/DataTable.tsx';
import { Field } from '../components/Field.tsx';
import { consoleGet, consolePost, formatLocalTime, type StaffMember, type StaffRole } from '../console-api.ts';
import type { ConsolePageProps } from '../console-pages.tsx';
import { useStaff } from '../console-session.tsx';

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
        <Field label="Staff email" grow>
          <input type="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
        </Field>
        <Field label="Role">
          <select value={role} onChange={(e) => setRole(e.target.value as StaffRole)}>
            <option value="support">support (inbox, customers read-only, feedback)</option>
            <option value="admin">admin (everything)</option>
          </select>
        </Field>
        <Field label="Password (optional, 12+ characters)" grow>
          <input type="password" autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} />
        </Field>
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

/**
 * One staff member's row: role, second factor and sign-in state, with the changes an admin may
 * make (never to their own account: the server refuses it, so the buttons are not offered).
 */
function StaffRow({ member, isMe, onChanged }: { member: StaffMember; isMe: boolean; onChanged(): void }) {
  const { busy, error, run } = useFormAction();
  const change = (body: { role?: StaffRole; disabled?: boolean; reset_totp?: boolean }) =>
    run(async () => {
      await consolePost(`/staff/${member.id}`, body);
      onChanged();
    });
  const otherRole: StaffRole = member.role === 'admin' ? 'support' : 'admin';
  return (
    <tr>
      <td>{member.email}</td>
      <td>
        <span className={`badge role-${member.role}`}>{member.role}</span>
      </td>
      <td>{member.totp_enabled ? 'On' : member.role === 'admin' ? 'Set up at first sign-in' : 'Off'}</td>
      <td>{member.disabled ? 'Disabled' : 'Can sign in'}</td>
      <td>{formatLocalTime(member.created_at)}</td>
      <td>
        {isMe ? (
          <span className="muted small">you</span>
        ) : (
          <div className="row-actions">
            <button type="button" className="btn btn-small" disabled={busy} onClick={() => change({ role: otherRole })} aria-label={`Make ${member.email} ${otherRole}`}>
              Make {otherRole}
            </button>
            {member.totp_enabled && (
              <button type="button" className="btn btn-small" disabled={busy} onClick={() => change({ reset_totp: true })} aria-label={`Reset the second factor of ${member.email}`}>
                Reset second factor
              </button>
            )}
            <button
              type="button"
              className="btn btn-small"
              disabled={busy}
              onClick={() => change({ disabled: !member.disabled })}
              aria-label={`${member.disabled ? 'Enable' : 'Disable'} ${member.email}`}
            >
              {member.disabled ? 'Enable' : 'Disable'}
            </button>
            <FormError error={error} />
          </div>
        )}
      </td>
    </tr>
  );
}

export function StaffPage(_props: ConsolePageProps) {
  const me = useStaff();
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
        <AsyncContent state={list} what="staff">
          {({ staff }) => (
            <DataTable label="Staff members" columns={['Email', 'Role', 'Second factor', 'Sign-in', 'Added', actionsColumn]}>
              {staff.map((member) => (
                <StaffRow key={member.id} member={member} isMe={member.id === me.id} onChanged={list.reload} />
              ))}
            </DataTable>
          )}
        </AsyncContent>
      </section>
    </div>
  );
}
