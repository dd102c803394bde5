import { lazy, type ReactNode, Suspense, useEffect } from 'react';
import { Layout } from './components/Layout.tsx';
import { Loading } from './components/States.tsx';
import { ApiAccessPage } from './pages/ApiAccessPage.tsx';
import { DashboardPage } from './pages/DashboardPage.tsx';
import { DocsPage } from './pages/DocsPage.tsx';
import { ForgotPasswordPage, ResetPasswordPage } from './pages/PasswordResetPages.tsx';
import { InvitePage } from './pages/InvitePage.tsx';
import { LandingPage } from './pages/LandingPage.tsx';
import { RentalsPage } from './pages/RentalsPage.tsx';
import { ConfirmSignUpPage, SignInPage, SignUpPage } from './pages/AuthPages.tsx';
import { TeamPage } from './pages/TeamPage.tsx';
import { TopUpPage } from './pages/TopUpPage.tsx';
import { TransactionsPage } from './pages/TransactionsPage.tsx';
import { Link, navigate, useLocation } from './router.tsx';
import { SessionProvider, useSession } from './session.tsx';

// The staff back office (/console) has its own layout and session, and its own bundle: customers never load it.
const ConsoleApp = lazy(() => import('./console/ConsoleApp.tsx'));

const titles: Record<string, string> = {
  '/': 'Nova SMS — temporary numbers for verification codes',
  '/docs': 'API documentation — Nova SMS',
  '/signin': 'Sign in — Nova SMS',
  '/signup': 'Sign up — Nova SMS',
  '/confirm-signup': 'Finish signing up — Nova SMS',
  '/forgot-password': 'Forgot password — Nova SMS',
  '/reset-password': 'Set a new password — Nova SMS',
  '/invite': 'Join your team — Nova SMS',
  '/dashboard': 'Dashboard — Nova SMS',
  '/profile/api': 'API access — Nova SMS',
  '/team': 'Team — Nova SMS',
  '/topup': 'Top up — Nova SMS',
  '/rentals': 'Rentals — Nova SMS',
  '/transactions': 'Transactions — Nova SMS',
};

/** Pages that need a session send a signed-out visitor to sign in, then back. */
function SignedIn({ children, ownerOnly = false }: { children: ReactNode; ownerOnly?: boolean }) {
  const { account } = useSession();
  const { pathname } = useLocation();
  useEffect(() => {
    if (account === null) navigate(`/signin?next=${encodeURIComponent(pathname)}`, { replace: true });
  }, [account, pathname]);
  if (!account) return <Loading what="your account" />;
  if (ownerOnly && account.role !== 'owner') {
    return (
      <section className="page">
        <h1>Team</h1>
        <p>Only company owners manage the team. Ask an owner of {account.company_name} to change roles or invite people.</p>
      </section>
    );
  }
  return <>{children}</>;
}

function Routes() {
  const { pathname } = useLocation();
  useEffect(() => {
    document.title = titles[pathname] ?? 'Nova SMS';
  }, [pathname]);
  switch (pathname) {
    case '/':
      return <LandingPage />;
    case '/docs':
      return <DocsPage />;
    case '/signin':
      return <SignInPage />;
    case '/signup':
      return <SignUpPage />;
    case '/confirm-signup':
      return <ConfirmSignUpPage />;
    case '/forgot-password':
      return <ForgotPasswordPage />;
    case '/reset-password':
      return <ResetPasswordPage />;
    case '/invite':
      return <InvitePage />;
    case '/dashboard':
      return <SignedIn><DashboardPage /></SignedIn>;
    case '/profile/api':
      return <SignedIn><ApiAccessPage /></SignedIn>;
    case '/team':
      return <SignedIn ownerOnly><TeamPage /></SignedIn>;
    case '/topup':
      return <SignedIn><TopUpPage /></SignedIn>;
    case '/transactions':
      return <SignedIn><TransactionsPage /></SignedIn>;
    case '/rentals':
      return <SignedIn><RentalsPage /></SignedIn>;
    default:
      return (
        <section className="page narrow">
          <h1>Page not found</h1>
          <p>There is nothing at {pathname}. Go back to the <Link to="/">home page</Link> or your <Link to="/dashboard">dashboard</Link>.</p>
        </section>
      );
  }
}

export function App() {
  const { pathname } = useLocation();
  if (pathname === '/console' || pathname.startsWith('/console/')) {
    return (
      <Suspense fallback={<Loading what="the console" />}>
        <ConsoleApp />
      </Suspense>
    );
  }
  return (
    <SessionProvider>
      <Layout>
        <Routes />
      </Layout>
    </SessionProvider>
  );
}
