import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatUsd, parseUsd, toUsdNumber, usdNumberToUnits } from '../../../src/modules/billing/money.ts';

/** [decimal text an operator types, units of 1/10000 USD (null: refused)]. */
const parseCases: readonly (readonly [text: string, units: number | null])[] = [
  ['0', 0],
  ['10', 100_000],
  ['12.5', 125_000],
  ['0.5', 5_000],
  ['0.50', 5_000],
  ['0.0001', 1],
  ['14.0912', 140_912],
  ['-3', -30_000],
  ['-0.75', -7_500],
  [' 1.5 ', 15_000],
  ['000.1000', 1_000],
  ['900719925474.0991', 9_007_199_254_740_991],
  // More than 4 decimals: refused, never rounded.
  ['1.23456', null],
  ['0.00001', null],
  // Beyond what a double holds exactly: refused, never rounded.
  ['999999999999.9999', null],
  ['900719925474.0992', null],
  ['1234567890123', null],
  ['', null],
  ['abc', null],
  ['1.', null],
  ['.5', null],
  ['+1', null],
  ['1,5', null],
  ['1e3', null],
  ['1 000', null],
  ['$5', null],
  ['5 USD', null],
  ['--1', null],
  ['0x10', null],
];

/** [JSON number from a request body, units (null: refused)]. */
const numberCases: readonly (readonly [value: number, units: number | null])[] = [
  [0.5, 5_000],
  [0.75, 7_500],
  [14.0912, 140_912],
  [0.0001, 1],
  [1, 10_000],
  [100000, 1_000_000_000],
  [-1.5, -15_000],
  // Float noise from arithmetic is not a fifth decimal.
  [0.1 + 0.2, 3_000],
  [1.1 * 3, 33_000],
  [0.00005, null],
  [1.00005, null],
  [123.45678, null],
  [1e-8, null],
  [Number.NaN, null],
  [Number.POSITIVE_INFINITY, null],
  [Number.NEGATIVE_INFINITY, null],
  [1e300, null],
];

/** [units, the JSON number the API shows]. */
const toNumberCases: readonly (readonly [units: number, usd: number])[] = [
  [0, 0],
  [1, 0.0001],
  [5_000, 0.5],
  [7_500, 0.75],
  [140_912, 14.0912],
  [1_234_567, 123.4567],
  [100_000, 10],
  [-7_500, -0.75],
  [9_999, 0.9999],
];

/** [units, the text messages and the CLI show]. */
const formatCases: readonly (readonly [units: number, text: string])[] = [
  [0, '0.0000'],
  [1, '0.0001'],
  [5_000, '0.5000'],
  [140_912, '14.0912'],
  [100_000, '10.0000'],
  [1_000_000_000, '100000.0000'],
  [-1, '-0.0001'],
  [-7_500, '-0.7500'],
  [-140_912, '-14.0912'],
  [9_007_199_254_740_991, '900719925474.0991'],
];

describe('money', () => {
  describe('parseUsd reads decimal USD text exactly', () => {
    for (const [text, units] of parseCases) {
      it(`reads ${JSON.stringify(text)} as ${units ?? 'not an amount'}`, () => {
        assert.equal(parseUsd(text), units);
      });
    }
  });

  describe('usdNumberToUnits reads a JSON number, refusing more than 4 decimals', () => {
    for (const [value, units] of numberCases) {
      it(`reads ${value} as ${units ?? 'not an amount'}`, () => {
        assert.equal(usdNumberToUnits(value), units);
      });
    }
  });

  describe('toUsdNumber shows units as the JSON number of the API', () => {
    for (const [units, usd] of toNumberCases) {
      it(`shows ${units} as ${usd}`, () => {
        assert.equal(toUsdNumber(units), usd);
        // The wire form has no float noise: what the spec shows is what the client reads.
        assert.equal(JSON.stringify(toUsdNumber(units)), String(usd));
      });
    }
  });

  describe('formatUsd writes four decimals', () => {
    for (const [units, text] of formatCases) {
      it(`writes ${units} as "${text}"`, () => {
        assert.equal(formatUsd(units), text);
      });
    }
  });

  it('reads back every amount it writes, and the API number converts back to the same units', () => {
    for (const units of [0, 1, 99, 5_000, 7_500, 140_912, 123_456_789, -1, -7_500, -140_912]) {
      assert.equal(parseUsd(formatUsd(units)), units, `units ${units}`);
      assert.equal(usdNumberToUnits(toUsdNumber(units)), units, `units ${units}`);
    }
  });
});
