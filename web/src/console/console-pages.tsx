import type { ComponentType } from 'react';
import type { StaffRole } from './console-api.ts';
import { AuditPage } from './pages/AuditPage.tsx';
import { CatalogPage } from './pages/CatalogPage.tsx';
import { CompanyPage } from './pages/CompanyPage.tsx';
import { CustomersPage } from './pages/CustomersPage.tsx';
import { FeedbackPage } from './pages/FeedbackPage.tsx';
import { HomePage } from './pages/HomePage.tsx';
import { StaffPage } from './pages/StaffPage.tsx';
import { MonitorPage } from './pages/MonitorPage.tsx';
import { SupplyPage } from './pages/SupplyPage.tsx';
import { SupportInboxPage } from './pages/SupportInboxPage.tsx';

/** What a console page gets: the `:name` parts of its path. */
export interface ConsolePageProps {
  params: Record<string, string>;
}

export interface ConsolePage {
  /** `/console/...`; `:name` matches one path segment, handed to the page as params.name. */
  path: string;
  /** The document title (" — Nova Console" is added). */
  title: string;
  /** The left navigation's label; pages without one (detail pages) are reached by links. */
  nav?: string;
  /** Who may open it. Others see a "needs admin" message instead (the API refuses them anyway). */
  roles: readonly StaffRole[];
  component: ComponentType<ConsolePageProps>;
}

const everyone = ['admin', 'support'] as const;
const adminOnly = ['admin'] as const;

/**
 * Every console page, in the order of the left navigation. To add a page, write
 * web/src/console/pages/YourPage.tsx and add an entry here.
 */
export const consolePages: ConsolePage[] = [
  { path: '/console', title: 'Home', nav: 'Home', roles: everyone, component: HomePage },
  { path: '/console/catalog', title: 'Catalog & pricing', nav: 'Catalog & pricing', roles: adminOnly, component: CatalogPage },
  { path: '/console/customers', title: 'Customers', nav: 'Customers', roles: everyone, component: CustomersPage },
  { path: '/console/customers/:id', title: 'Company', roles: everyone, component: CompanyPage },
  { path: '/console/support', title: 'Support inbox', nav: 'Support inbox', roles: everyone, component: SupportInboxPage },
  { path: '/console/monitor', title: 'Activations monitor', nav: 'Activations', roles: adminOnly, component: MonitorPage },
  { path: '/console/supply', title: 'Supply', nav: 'Supply', roles: adminOnly, component: SupplyPage },
  { path: '/console/feedback', title: 'Feedback', nav: 'Feedback', roles: everyone, component: FeedbackPage },
  { path: '/console/audit', title: 'Audit log', nav: 'Audit log', roles: adminOnly, component: AuditPage },
  { path: '/console/staff', title: 'Staff', nav: 'Staff', roles: adminOnly, component: StaffPage },
];

/** The page whose path matches `pathname`, with its params; undefined when none does. */
export function matchConsolePage(pathname: string): { page: ConsolePage; params: Record<string, string> } | undefined {
  const parts = pathname.replace(/\/+$/, '').split('/');
  for (const page of consolePages) {
    const pattern = page.path.split('/');
    if (pattern.length !== parts.length) continue;
    const params: Record<string, string> = {};
    const matches = pattern.every((segment, i) => {
      if (segment.startsWith(':')) {
        try {
          params[segment.slice(1)] = decodeURIComponent(parts[i]);
        } catch {
          return false;
        }
        return parts[i] !== '';
      }
      return segment === parts[i];
    });
    if (matches) return { page, params };
  }
  return undefined;
}
