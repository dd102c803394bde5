/** Shapes of the catalog and pricing routes of /api/console (docs/console-api.md, "Catalog and pricing"). */

export interface CatalogService {
  code: string;
  name: string;
  enabled: boolean;
}

export interface CatalogCountry {
  id: number;
  name: string;
  iso: string;
  prefix: string;
  enabled: boolean;
}

export interface CatalogOperator {
  country: number;
  code: string;
  name: string;
  enabled: boolean;
}

export interface Catalog {
  services: CatalogService[];
  countries: CatalogCountry[];
  operators: CatalogOperator[];
}

export interface PricingRule {
  mode: 'manual' | 'markup';
  markup_percent: number;
  min_margin: number;
}

export interface OperatorPrice {
  operator: string;
  price: number;
  margin: number | null;
  margin_percent: number | null;
  below_cost: boolean;
}

export interface PricingRow {
  service: string;
  service_name: string;
  country: number;
  country_name: string;
  on_sale: boolean;
  cost: number | null;
  price: number | null;
  margin: number | null;
  margin_percent: number | null;
  below_cost: boolean;
  rule: PricingRule;
  stock: number;
  operator_prices: OperatorPrice[];
}

export interface ImportReport {
  applied: boolean;
  created: number;
  updated: number;
  unchanged: number;
  changes: { line: number; kind: string; key: string; result: 'created' | 'updated' | 'unchanged' }[];
}
