import { Type } from '@sinclair/typebox';
import { okSchema } from '../../http/envelope.ts';

export const BalanceResponse = okSchema(
  Type.Object({
    balance: Type.Number({ description: 'USD, up to 4 decimals', examples: [14.0912] }),
    currency: Type.Literal('USD'),
  }),
);
