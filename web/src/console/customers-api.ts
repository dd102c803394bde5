/** Shapes of the customers-and-money routes of /api/console (docs/console-api.md, "Customers and money"). */

export interface Company {
  id: number;
  name: string;
  balance: number;
  members: number;
  blocked: boolean;
  blocked_at: string | null;
  blocked_reason: string | null;
  created_at: string;
}

export interface CompanyMatch {
  field: 'name' | 'email' | 'phone' | 'activation' | 'id';
  value: string;
}

export interface CompanyMember {
  id: number;
  email: string;
  role: 'owner' | 'member';
  key_prefix: string | null;
  key_created_at: string | null;
  created_at: string;
  removed: boolean;
  removed_at: string | null;
}

export interface CompanyActivation {
  id: number;
  account_id: number;
  service: string;
  country: number;
  operator: string;
  number: string;
  price: number;
  status: 'waiting' | 'sms_received' | 'completed' | 'cancelled' | 'expired';
  code: string | null;
  created_at: string;
  finished_at: string | null;
}

export interface LedgerEntry {
  id: number;
  kind: 'topup' | 'purchase' | 'refund' | 'adjustment';
  amount: number;
  balance_after: number;
  activation_id: number | null;
  reason: string | null;
  audit_id: number | null;
  created_at: string;
}

export interface Paged {
  total: number;
  limit: number;
  offset: number;
}
