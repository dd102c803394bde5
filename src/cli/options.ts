import { AppError } from '../http/errors.ts';

/** The value of a required `--name value` option, or a clear error naming it. */
export function requireOption(values: Record<string, string | boolean | undefined>, name: string): string {
  const value = values[name];
  if (typeof value !== 'string' || value === '') throw new AppError('invalid_request', `--${name} is required`);
  return value;
}

/** A required positive integer option such as `--company 12`. */
export function requireIdOption(values: Record<string, string | boolean | undefined>, name: string): number {
  const text = requireOption(values, name);
  const id = Number(text);
  if (!Number.isSafeInteger(id) || id <= 0) throw new AppError('invalid_request', `--${name} must be a positive whole number, not "${text}"`);
  return id;
}
