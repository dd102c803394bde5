import { type ReactNode, useState } from 'react';
import { post } from '../api.ts';
import { Link, navigate, useLocation } from '../router.tsx';
import { useSession } from '../session.tsx';
import { ChatWidget } from './ChatWidget.tsx';

function NavLink({ to, children, onNavigate }: { to: string; children: ReactNode; onNavigate(): void }) {
  const { pathname } = useLocation();
  return (
    <Link to={to} className="nav-link" aria-current={pathname === to ? 'page' : undefined} onClick={onNavigate}>
      {children}
    </Link>
  );
}

export function Layout({ children }: { children: ReactNode }) {
  const { account, blockedMessage, setAccount } = useSession();
  const [menuOpen, setMenuOpen] = useState(false);
  const close = () => setMenuOpen(false);

  const signOut = async () => {
    try {
      await post('/api/web/signout');
    } finally {
      setAccount(null);
      close();
      navigate('/');
    }
  };

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="site-header">
        <div className="container header-inner">
          <Link to={account ? '/dashboard' : '/'} className="brand" onClick={close}>
            <span className="brand-mark" aria-hidden="true">
              N
            </span>
            Nova SMS
          </Link>
          <button
            type="button"
            className="menu-toggle"
            aria-expanded={menuOpen}
            aria-controls="site-nav"
            onClick={() => setMenuOpen((v) => !v)}
          >
            Menu
          </button>
          <nav id="site-nav" className={`site-nav${menuOpen ? ' is-open' : ''}`} aria-label="Main">
            {account ? (
              <>
                <NavLink to="/dashboard" onNavigate={close}>Dashboard</NavLink>
                <NavLink to="/rentals" onNavigate={close}>Rentals</NavLink>
                <NavLink to="/topup" onNavigate={close}>Top up</NavLink>
                <NavLink to="/transactions" onNavigate={close}>Transactions</NavLink>
                <NavLink to="/profile/api" onNavigate={close}>API access</NavLink>
                {account.role === 'owner' && <NavLink to="/team" onNavigate={close}>Team</NavLink>}
                <NavLink to="/docs" onNavigate={close}>API docs</NavLink>
                <button type="button" className="btn btn-small btn-ghost" onClick={signOut}>
                  Sign out
                </button>
              </>
            ) : (
              <>
                <NavLink to="/" onNavigate={close}>Prices</NavLink>
                <NavLink to="/docs" onNavigate={close}>API docs</NavLink>
                <NavLink to="/signin" onNavigate={close}>Sign in</NavLink>
                <Link to="/signup" className="btn btn-primary btn-small" onClick={close}>
                  Sign up
                </Link>
              </>
            )}
          </nav>
        </div>
      </header>
      <main id="main" className="container main" tabIndex={-1}>
        {blockedMessage && (
          <p className="form-error blocked-banner" role="alert">
            {blockedMessage}
          </p>
        )}
        {children}
      </main>
      <footer className="site-footer">
        <div className="container footer-inner">
          <span>© Nova SMS — temporary numbers for verification codes.</span>
          <span>
            <Link to="/docs">API documentation</Link> · Everything on this site is served by us: no trackers, no third-party scripts.
          </span>
        </div>
      </footer>
      <ChatWidget />
    </>
  );
}
