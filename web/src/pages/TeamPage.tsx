import { type FormEvent, useState } from 'react';
import { api, errorMessage, formatLocalTime, formatUsd, post, type TeamInvite, type TeamMember } from '../api.ts';
import { CopyButton } from '../components/CopyButton.tsx';
import { Empty, ErrorBox, Loading } from '../components/States.tsx';
import { useSession } from '../session.tsx';
import { useAsync } from '../use-async.ts';

function MemberRow({ member, isMe, onChanged }: { member: TeamMember; isMe: boolean; onChanged(): void }) {
  const [busy, setBusy] = useState(false);
  const [confirmRemove, setConfirmRemove] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const run = async (path: string, body: unknown = {}) => {
    setBusy(true);
    setError(null);
    try {
      await post(path, body);
      onChanged();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
      setConfirmRemove(false);
    }
  };

  return (
    <tr data-member-email={member.email}>
      <td>
        {member.email} {isMe && <span className="badge badge-muted">you</span>}
        {error && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
      </td>
      <td>
        <label className="visually-hidden" htmlFor={`role-${member.id}`}>
          Role of {member.email}
        </label>
        <select
          id={`role-${member.id}`}
          value={member.role}
          disabled={busy || isMe}
          onChange={(e) => run(`/api/web/team/members/${member.id}/role`, { role: e.target.value })}
        >
          <option value="owner">Owner</option>
          <option value="member">Member</option>
        </select>
      </td>
      <td className="num">{formatUsd(member.spent)}</td>
      <td className="num">{member.activations}</td>
      <td>{formatLocalTime(member.joined_at)}</td>
      <td>
        {isMe ? null : confirmRemove ? (
          <span className="row">
            <button type="button" className="btn btn-danger btn-small" disabled={busy} onClick={() => run(`/api/web/team/members/${member.id}/remove`)}>
              Remove {member.email}
            </button>
            <button type="button" className="btn btn-ghost btn-small" onClick={() => setConfirmRemove(false)}>
              Keep
            </button>
          </span>
        ) : (
          <button type="button" className="btn btn-small" disabled={busy} onClick={() => setConfirmRemove(true)}>
            Remove
          </button>
        )}
      </td>
    </tr>
  );
}

function InviteRow({ invite, onChanged }: { invite: TeamInvite; onChanged(): void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  // One click: an invitation is cheap to send again, and its link must die as soon as the owner asks.
  const revoke = async () => {
    setBusy(true);
    setError(null);
    try {
      await post(`/api/web/team/invites/${invite.id}/revoke`, {});
      onChanged();
    } catch (e) {
      setError(errorMessage(e));
      setBusy(false);
    }
  };

  return (
    <li data-invite-email={invite.email}>
      <span className="row">
        <span>
          {invite.email} · {invite.role} · invited {formatLocalTime(invite.created_at)}
        </span>
        <button type="button" className="btn btn-small" disabled={busy} aria-label={`Revoke the invitation of ${invite.email}`} onClick={revoke}>
          {busy ? 'Revoking…' : 'Revoke'}
        </button>
      </span>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
    </li>
  );
}

export function TeamPage() {
  const { account } = useSession();
  const team = useAsync(() => api<{ members: TeamMember[]; invites: TeamInvite[] }>('/api/web/team'), []);
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<'member' | 'owner'>('member');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [inviteUrl, setInviteUrl] = useState<string | null>(null);

  const invite = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setInviteUrl(null);
    try {
      const result = await post<{ invite_url: string }>('/api/web/team/invites', { email, role });
      setInviteUrl(new URL(result.invite_url, location.origin).toString());
      setEmail('');
      team.reload();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="page">
      <h1>Team</h1>
      <p className="muted">
        {account?.company_name}: members buy numbers with the company balance and see only their own activations; owners see
        everything and manage the team.
      </p>
      <form className="card form" onSubmit={invite} aria-labelledby="invite-title">
        <h2 id="invite-title">Invite someone</h2>
        <div className="filters">
          <label className="field grow">
            <span>Email</span>
            <input type="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
          </label>
          <label className="field">
            <span>Role</span>
            <select value={role} onChange={(e) => setRole(e.target.value as 'member' | 'owner')}>
              <option value="member">Member</option>
              <option value="owner">Owner</option>
            </select>
          </label>
          <button type="submit" className="btn btn-primary" disabled={busy}>
            {busy ? 'Inviting…' : 'Send invite'}
          </button>
        </div>
        {error && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
        {inviteUrl && (
          <div className="notice-ok" role="status">
            <p>Invite sent by email. You can also share this link:</p>
            <div className="key-row">
              <code className="api-key" data-testid="invite-url">
                {inviteUrl}
              </code>
              <CopyButton text={inviteUrl} what="invite link" />
            </div>
          </div>
        )}
      </form>
      <section className="card" aria-labelledby="members-title">
        <h2 id="members-title">Members and spending</h2>
        {team.loading && !team.data ? (
          <Loading what="your team" />
        ) : team.error || !team.data ? (
          <ErrorBox message={`We could not load your team: ${team.error}`} onRetry={team.reload} />
        ) : (
          <>
            <div className="table-wrap">
              <table className="table" aria-label="Members">
                <thead>
                  <tr>
                    <th scope="col">Email</th>
                    <th scope="col">Role</th>
                    <th scope="col" className="num">Spent</th>
                    <th scope="col" className="num">Activations</th>
                    <th scope="col">Joined</th>
                    <th scope="col">
                      <span className="visually-hidden">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {team.data.members.map((member) => (
                    <MemberRow key={member.id} member={member} isMe={member.id === account?.id} onChanged={team.reload} />
                  ))}
                </tbody>
              </table>
            </div>
            <h3>Pending invites</h3>
            {team.data.invites.length === 0 ? (
              <Empty title="No pending invites.">
                <p className="muted">Invite a colleague above; they get their own API key when they join.</p>
              </Empty>
            ) : (
              <ul className="plain-list">
                {team.data.invites.map((i) => (
                  <InviteRow key={i.id} invite={i} onChanged={team.reload} />
                ))}
              </ul>
            )}
          </>
        )}
      </section>
    </div>
  );
}
