import type { TSchema } from '@sinclair/typebox';
import { Type } from '@sinclair/typebox';

/** `{ ok: true, data }`: the shape of every successful answer. */
export function ok<T>(data: T): { ok: true; data: T } {
  return { ok: true, data };
}

/** Response schema of a successful answer carrying `data`. */
export function okSchema<T extends TSchema>(data: T) {
  return Type.Object({ ok: Type.Literal(true), data });
}

export const errorEnvelopeSchema = Type.Object({
  ok: Type.Literal(false),
  error: Type.Object({ code: Type.String(), message: Type.String() }),
});
