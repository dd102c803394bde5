import { type ReactNode, useEffect } from 'react';
import { Loading } from '../components/States.tsx';
import { Link, navigate, useLocation } from '../router.tsx';
import { consolePost } from './console-api.ts';
import { type ConsolePage, consolePages, matchConsolePage } from './console-pages.tsx';
import { ConsoleSessionProvider, useConsoleSession } from './console-session.tsx';
import { SignInPage } from './pages/SignInPage.tsx';
import './console.css';

function NavLink({ page }: { page: ConsolePage }) {
  const { pathname } = useLocation();
  // Detail pages (a company under Customers) light up their section's entry.
  const current = pathname === page.path || (page.path !== '/console' && pathname.startsWith(`${page.path}/`));
  return (
    <Link to={page.path} className="console-nav-link" aria-current={current ? 'page' : undefined}>
      {page.nav}
    </Link>
  );
}

function Shell({ children }: { children: ReactNode }) {
  const { staff, setSession } = useConsoleSession();
  const signOut = async () => {
    try {
      await consolePost('/signout');
    } finally {
      setSession({ staff: null, stage: null });
      navigate('/console/signin', { replace: true });
    }
  };
  if (!staff) return null;
  return (
    <div className="console-shell">
      <a className="skip-link" href="#console-main">
        Skip to content
      </a>
      <aside className="console-sidebar">
        <Link to="/console" className="brand console-brand">
          <span className="brand-mark" aria-hidden="true">
            N
          </span>
          Nova Console
        </Link>
        <nav className="console-nav" aria-label="Console">
          {consolePages
            .filter((page) => page.nav && page.roles.includes(staff.role))
            .map((page) => (
              <NavLink key={page.path} page={page} />
            ))}
        </nav>
        <div className="console-who">
          <span className="console-email" data-testid="staff-email">
            {staff.email}
          </span>
          <span className={`badge role-${staff.role}`} data-testid="staff-role">
            {staff.role}
          </span>
          <button type="button" className="btn btn-small" onClick={signOut}>
            Sign out
          </button>
        </div>
      </aside>
      <main id="console-main" className="console-main" tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}

function NeedsRole({ page }: { page: ConsolePage }) {
  const { staff } = useConsoleSession();
  return (
    <section className="page narrow">
      <h1>{page.title}</h1>
      <div className="notice-warn" role="alert">
        <p>
          <strong>This page needs the {page.roles.join(' or ')} role.</strong> You are signed in as {staff?.email} with the{' '}
          {staff?.role} role.
        </p>
        <p>Ask an admin if you need something done here.</p>
      </div>
      <p>
        <Link to="/console">Back to the console home</Link>
      </p>
    </section>
  );
}

function SignedInConsole() {
  const { staff, stage } = useConsoleSession();
  const { pathname } = useLocation();
  const match = matchConsolePage(pathname);
  const signedIn = staff && stage === 'complete';

  useEffect(() => {
    // Anonymous visitors, customers and half-signed-in staff all start at the console's sign-in.
    if (staff === null || (staff && stage !== 'complete')) {
      navigate(`/console/signin?next=${encodeURIComponent(pathname)}`, { replace: true });
    }
  }, [staff, stage, pathname]);
  useEffect(() => {
    document.title = `${match?.page.title ?? 'Not found'} — Nova Console`;
  }, [match?.page.title]);

  if (!signedIn) {
    return (
      <main className="console-main">
        <Loading what="the console" />
      </main>
    );
  }
  let content: ReactNode;
  if (!match) {
    content = (
      <section className="page narrow">
        <h1>Page not found</h1>
        <p>
          There is nothing at {pathname}. Go to the <Link to="/console">console home</Link>.
        </p>
      </section>
    );
  } else if (!match.page.roles.includes(staff.role)) {
    content = <NeedsRole page={match.page} />;
  } else {
    const Page = match.page.component;
    // Keyed by path: opening another company starts its page afresh.
    content = <Page key={pathname} params={match.params} />;
  }
  return <Shell>{content}</Shell>;
}

function ConsoleRoutes() {
  const { pathname } = useLocation();
  if (pathname === '/console/signin') return <SignInPage />;
  return <SignedInConsole />;
}

/** The back office at /console: its own layout, session and pages (console-pages.tsx). */
export default function ConsoleApp() {
  return (
    <ConsoleSessionProvider>
      <ConsoleRoutes />
    </ConsoleSessionProvider>
  );
}
